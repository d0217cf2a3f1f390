package checksum

import "testing"

func TestNew(t *testing.T) {
	for algo, size := range map[string]int{"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64} {
		h := New(algo)
		if h == nil || h.Size() != size {
			t.Errorf("%s: %v", algo, h)
		}
	}
	if New("crc32") != nil || New("") != nil {
		t.Error("an unknown name gave a hash")
	}
}
