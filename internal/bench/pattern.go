package bench

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"
)

// The transfer workloads send and expect a pattern: one MiB of seeded
// random bytes repeated, each repetition stamped with its index in its
// first eight bytes, so no two MiB are alike. The benchmark can produce
// and check it at memory speed, which leaves the two cores to the server.
const blockSize = 1 << 20

// baseBlock is made on first use, not when the program starts: every
// glint command links this package, and filling a MiB cost each start of
// `glint serve` some 6 ms of its CPU.
var baseBlock = sync.OnceValue(func() []byte {
	b := make([]byte, blockSize)
	r := rand.NewChaCha8([32]byte{'g', 'l', 'i', 'n', 't'})
	r.Read(b)
	return b
})

// patternReader yields the first size bytes of the pattern.
type patternReader struct {
	size, off int64
	stamp     [8]byte
}

func newPattern(size int64) *patternReader { return &patternReader{size: size} }

// segment returns the pattern bytes at off, up to the end of that block.
func (r *patternReader) segment(off int64) []byte {
	block, in := off/blockSize, off%blockSize
	if in < 8 {
		binary.LittleEndian.PutUint64(r.stamp[:], uint64(block))
		return r.stamp[in:]
	}
	return baseBlock()[in:]
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.off < r.size {
		seg := r.segment(r.off)
		seg = seg[:min(int64(len(seg)), r.size-r.off)]
		c := copy(p[n:], seg)
		n += c
		r.off += int64(c)
	}
	return n, nil
}

// WriteTo hands the pattern to w without copying it, a block at a time.
func (r *patternReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.off < r.size {
		seg := r.segment(r.off)
		seg = seg[:min(int64(len(seg)), r.size-r.off)]
		n, err := w.Write(seg)
		total += int64(n)
		r.off += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// patternChecker is a writer that fails on the first byte that is not the
// pattern's, and counts what it saw.
type patternChecker struct {
	want patternReader
}

func (c *patternChecker) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		seg := c.want.segment(c.want.off)
		seg = seg[:min(len(seg), len(p)-done)]
		if !bytes.Equal(seg, p[done:done+len(seg)]) {
			return done, fmt.Errorf("data differs from what was uploaded near byte %d", c.want.off)
		}
		done += len(seg)
		c.want.off += int64(len(seg))
	}
	return done, nil
}

func (c *patternChecker) seen() int64 { return c.want.off }

// digests are the expected checksums of a pattern of one size.
type digests struct {
	size   int64
	md5    string
	sha512 string
}

// hashCost is what hashing cost this process: CPU per GiB for each
// algorithm alone.
type hashCost struct {
	md5PerGiB, sha512PerGiB time.Duration
}

// patternDigests hashes the pattern of the given size, each algorithm on
// its own, and reports the CPU each took: the price md5 + sha512 put on
// every upload, measured with Go's standard library on this machine.
func patternDigests(size int64) (digests, hashCost) {
	d := digests{size: size}
	var cost hashCost
	run := func(h hash.Hash) (string, time.Duration) {
		t0 := processCPU()
		_, _ = newPattern(size).WriteTo(h) // a hash's Write never fails
		return hex.EncodeToString(h.Sum(nil)), processCPU() - t0
	}
	var tm, ts time.Duration
	d.md5, tm = run(md5.New())
	d.sha512, ts = run(sha512.New())
	gib := float64(size) / (1 << 30)
	cost.md5PerGiB = time.Duration(float64(tm) / gib)
	cost.sha512PerGiB = time.Duration(float64(ts) / gib)
	return d, cost
}

// processCPU is the CPU this process has used (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
