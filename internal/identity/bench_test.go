package identity_test

import "testing"

// BenchmarkValidateToken is the check every API request with a token
// makes: verify the signature, look up revocations, load the user,
// project and roles.
func BenchmarkValidateToken(b *testing.B) {
	e := setup(b)
	tok := e.mustLogin(b, "admin", adminPassword, adminScope)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.svc.ValidateToken(b.Context(), tok.ID); err != nil {
			b.Fatal(err)
		}
	}
}
