package diskformat

// Test-only access to the fuzz seed encoding, for the seed writer in the
// external test package.
var (
	EncodeSparse = encodeSparse
	DecodeSparse = decodeSparse
)
