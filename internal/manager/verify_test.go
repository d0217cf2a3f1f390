package manager

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestVerifierPassesGoodData(t *testing.T) {
	for _, size := range []int{0, 1, verifyBlock - 1, verifyBlock, verifyBlock + 1, 3*verifyBlock + 17} {
		data := make([]byte, size)
		rand.Read(data)
		sum := sha256.Sum256(data)
		v := newVerifier(iotest.HalfReader(bytes.NewReader(data)), "sha256:"+hex.EncodeToString(sum[:]))
		got, err := io.ReadAll(v)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: %v, %d bytes back", size, err, len(got))
		}
		if v.n != int64(size) {
			t.Errorf("size %d: counted %d", size, v.n)
		}
	}
}

// TestVerifierWithholdsTheEnd checks that bad data fails before its last
// block is delivered: a server reading the stream never sees it whole.
func TestVerifierWithholdsTheEnd(t *testing.T) {
	for _, size := range []int{1, verifyBlock, verifyBlock + 1, 3*verifyBlock + 17} {
		data := make([]byte, size)
		rand.Read(data)
		v := newVerifier(bytes.NewReader(data), "sha256:"+hex.EncodeToString(make([]byte, 32)))
		got, err := io.ReadAll(v)
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("size %d: err %v", size, err)
		}
		if len(got) >= size {
			t.Errorf("size %d: delivered %d bytes of bad data", size, len(got))
		}
		if _, err := v.Read(make([]byte, 10)); !errors.As(err, &ce) {
			t.Errorf("size %d: read after failure: %v", size, err)
		}
	}
}

func TestVerifierWithoutChecksum(t *testing.T) {
	v := newVerifier(bytes.NewReader([]byte("abc")), "")
	got, err := io.ReadAll(v)
	if err != nil || string(got) != "abc" || v.md5Hex() != "900150983cd24fb0d6963f7d28e17f72" {
		t.Fatalf("%q %v %s", got, err, v.md5Hex())
	}
}

func TestVerifierPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	v := newVerifier(io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(boom)), "")
	if _, err := io.ReadAll(v); !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
}
