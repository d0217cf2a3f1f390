package image

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestCopyHashed(t *testing.T) {
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 31)
		}
		// A reader that returns one byte at a time exercises fill's loop.
		src := io.Reader(bytes.NewReader(data))
		if n < 5000 {
			src = iotest.OneByteReader(src)
		}
		var dst bytes.Buffer
		d := newDigester()
		got, err := copyHashed(&dst, src, d, int64(n), errTooBig)
		d.close()
		if err != nil || got != int64(n) || !bytes.Equal(dst.Bytes(), data) {
			t.Fatalf("n=%d: copied %d, err %v", n, got, err)
		}
		m, s := md5.Sum(data), sha512.Sum512(data)
		if d.md5Hex() != hex.EncodeToString(m[:]) || d.sha512Hex() != hex.EncodeToString(s[:]) {
			t.Fatalf("n=%d: wrong digests", n)
		}
	}
}

func TestCopyHashedLimit(t *testing.T) {
	d := newDigester()
	defer d.close()
	var dst bytes.Buffer
	_, err := copyHashed(&dst, bytes.NewReader(make([]byte, 100)), d, 99, errTooBig)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}

// A stream cut short must come back as an error, never as a short success.
func TestCopyHashedCutStream(t *testing.T) {
	d := newDigester()
	defer d.close()
	src := io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(io.ErrUnexpectedEOF))
	n, err := copyHashed(io.Discard, src, d, 1<<20, errTooBig)
	if !errors.Is(err, io.ErrUnexpectedEOF) || n != 10 {
		t.Fatalf("cut stream: n=%d err=%v", n, err)
	}
}

func TestResolveRange(t *testing.T) {
	cases := []struct {
		rng            *ByteRange
		size           int64
		offset, length int64
		bad            bool
	}{
		{nil, 10, 0, 10, false},
		{&ByteRange{Start: 0, End: 9}, 10, 0, 10, false},
		{&ByteRange{Start: 2, End: -1}, 10, 2, 8, false},
		{&ByteRange{Start: 5, End: 100}, 10, 5, 5, false},
		{&ByteRange{Suffix: 3}, 10, 7, 3, false},
		{&ByteRange{Suffix: 30}, 10, 0, 10, false},
		{&ByteRange{Start: 10, End: -1}, 10, 0, 0, true},
		{&ByteRange{Suffix: 1}, 0, 0, 0, true},
	}
	for _, c := range cases {
		off, n, err := resolveRange(c.rng, c.size)
		if (err != nil) != c.bad || (!c.bad && (off != c.offset || n != c.length)) {
			t.Errorf("%+v of %d: got %d+%d err %v", c.rng, c.size, off, n, err)
		}
	}
}

func TestStateTable(t *testing.T) {
	allowed := [][2]Status{{StatusQueued, StatusSaving}, {StatusSaving, StatusQueued}, {StatusSaving, StatusActive},
		{StatusActive, StatusDeactivated}, {StatusDeactivated, StatusActive}, {StatusActive, StatusDeleted}}
	refused := [][2]Status{{StatusActive, StatusSaving}, {StatusDeleted, StatusActive}, {StatusKilled, StatusActive}, {StatusQueued, StatusDeactivated}}
	for _, p := range allowed {
		if !CanTransition(p[0], p[1]) {
			t.Errorf("%s → %s refused", p[0], p[1])
		}
	}
	for _, p := range refused {
		if CanTransition(p[0], p[1]) {
			t.Errorf("%s → %s allowed", p[0], p[1])
		}
	}
}

// A digester's state restores into one with the same hashes, or fewer (a
// signature's hash no longer needed); one it lacks is a missingHashError;
// a state written before hashes were named (md5 and sha512 only) still
// restores; a garbled one is errHashState.
func TestHashState(t *testing.T) {
	data := bytes.Repeat([]byte("glint"), 1000)
	signed := newDigester(crypto.SHA256)
	signed.start(data)
	signed.wait()
	signed.close()
	state, err := signed.state()
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(data))
	for _, c := range []struct {
		extra []crypto.Hash
		want  error
	}{{[]crypto.Hash{crypto.SHA256}, nil}, {nil, nil}, {[]crypto.Hash{crypto.SHA384}, &missingHashError{crypto.SHA384}}} {
		d := newDigester(c.extra...)
		err := d.restore(state, n)
		d.close()
		var missing *missingHashError
		if (c.want == nil) != (err == nil) || (c.want != nil && (!errors.As(err, &missing) || missing.kind != crypto.SHA384)) {
			t.Errorf("restore into %v: %v, want %v", c.extra, err, c.want)
		}
		if err == nil && (d.md5Hex() != signed.md5Hex() || d.sha512Hex() != signed.sha512Hex() ||
			(len(c.extra) > 0 && !bytes.Equal(d.sum(crypto.SHA256), signed.sum(crypto.SHA256)))) {
			t.Errorf("restore into %v: other sums", c.extra)
		}
	}

	// The format before names: each state with its length, md5's first.
	var legacy []byte
	for _, h := range signed.hashes[:2] {
		b, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		legacy = binary.BigEndian.AppendUint32(legacy, uint32(len(b)))
		legacy = append(legacy, b...)
	}
	d := newDigester()
	if err := d.restore(legacy, n); err != nil || d.md5Hex() != signed.md5Hex() || d.sha512Hex() != signed.sha512Hex() {
		t.Errorf("legacy state: %v", err)
	}
	d.close()

	for name, bad := range map[string][]byte{
		"empty": nil, "another version": append([]byte{9}, state[1:]...), "cut short": state[:len(state)-3],
		"other count": state, "legacy with one hash": legacy[:4+92], "trailing byte": append(bytes.Clone(state), 1),
	} {
		count := n
		if name == "other count" {
			count = n + 1
		}
		d := newDigester(crypto.SHA256)
		if err := d.restore(bad, count); !errors.Is(err, errHashState) {
			t.Errorf("%s: %v, want errHashState", name, err)
		}
		d.close()
	}
}
