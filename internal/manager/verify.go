package manager

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// ChecksumError is data that does not match its definition's checksum.
type ChecksumError struct {
	Algorithm, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s checksum mismatch: the definition says %s, the data has %s", e.Algorithm, e.Want, e.Got)
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// verifier passes data through while hashing it, and holds back the
// last block until the end of the data is seen: when the checksum does
// not match, the reader fails instead of delivering the last bytes, so
// the server never receives a complete upload of bad data.
type verifier struct {
	src  io.Reader
	algo string
	want string
	sum  hash.Hash // of the definition's algorithm; nil when none
	md5  hash.Hash // what Glance records as checksum
	n    int64

	bufs    [2][]byte
	idx     int    // the buffer pending is in
	pending []byte // read ahead, not yet delivered
	out     []byte // being delivered
	started bool
	eof     bool
	done    bool
	err     error
}

const verifyBlock = 256 << 10

// newVerifier wraps src; checksum is "<algo>:<hex>" or "" (no check).
func newVerifier(src io.Reader, checksum string) *verifier {
	v := &verifier{src: src, md5: md5.New()}
	if algo, want, ok := strings.Cut(checksum, ":"); ok {
		v.algo, v.want, v.sum = algo, strings.ToLower(want), newHash(algo)
	}
	v.bufs[0], v.bufs[1] = make([]byte, verifyBlock), make([]byte, verifyBlock)
	return v
}

// readAhead reads the next block from src into buffer idx.
func (v *verifier) readAhead() {
	n, err := io.ReadFull(v.src, v.bufs[v.idx])
	v.pending = v.bufs[v.idx][:n]
	v.n += int64(n)
	v.md5.Write(v.pending)
	if v.sum != nil {
		v.sum.Write(v.pending)
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		v.eof = true
	default:
		v.err = err
	}
}

func (v *verifier) Read(p []byte) (int, error) {
	for len(v.out) == 0 {
		switch {
		case v.err != nil:
			return 0, v.err
		case v.done:
			return 0, io.EOF
		case !v.started:
			v.started = true
			v.readAhead()
			continue
		case len(v.pending) == 0: // the end, all delivered but the check
			return 0, v.finish()
		}
		deliver := v.pending
		if v.eof {
			v.pending = nil
		} else {
			// Read the block after this one: only then is it known
			// whether this one is the last.
			v.idx ^= 1
			v.readAhead()
			if v.err != nil {
				return 0, v.err
			}
		}
		if v.eof && len(v.pending) == 0 {
			if err := v.check(); err != nil {
				v.err = err
				return 0, err
			}
		}
		v.out = deliver
	}
	n := copy(p, v.out)
	v.out = v.out[n:]
	return n, nil
}

// finish is the end of the data: io.EOF once it checked out.
func (v *verifier) finish() error {
	if err := v.check(); err != nil {
		v.err = err
		return err
	}
	v.done = true
	return io.EOF
}

func (v *verifier) check() error {
	if v.sum == nil {
		return nil
	}
	if got := hex.EncodeToString(v.sum.Sum(nil)); got != v.want {
		return &ChecksumError{Algorithm: v.algo, Want: v.want, Got: got}
	}
	return nil
}

// md5Hex is the md5 of everything read so far.
func (v *verifier) md5Hex() string { return hex.EncodeToString(v.md5.Sum(nil)) }
