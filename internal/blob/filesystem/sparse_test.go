package filesystem_test

import (
	"bytes"
	"crypto/sha512"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
)

// rawImage returns a raw disk image of size bytes holding size/8 bytes of
// random data (the 1 GiB of an 8 GiB cloud image, scaled down) in 1 MiB
// extents spread over it, the rest zeros.
func rawImage(size int) []byte {
	p := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	const extent = 1 << 20
	for off := 0; off+extent <= size; off += 8 * extent {
		rng.Read(p[off : off+extent])
	}
	return p
}

// blocks is the disk space path takes, from stat's block count.
func blocks(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no block counts on this platform")
	}
	return st.Blocks * 512
}

// TestSparseUsage: an image holding one eighth data takes at most 1.1×
// its data on disk (the target: 8 GiB holding 1 GiB in ≤ 1.1 GiB), both
// through Write and through ReadFrom (io.Copy), and reads back whole.
func TestSparseUsage(t *testing.T) {
	img := rawImage(64 << 20)
	sum := sha512.Sum512(img)
	for name, fill := range map[string]func(w blob.Writer) error{
		"write": func(w blob.Writer) error {
			for p := img; len(p) > 0; p = p[min(len(p), 32<<10):] {
				if _, err := w.Write(p[:min(len(p), 32<<10)]); err != nil {
					return err
				}
			}
			return nil
		},
		"readfrom": func(w blob.Writer) error {
			_, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(img)})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			d, root := newDriver(t)
			w, err := d.Writer(t.Context(), "raw")
			if err != nil {
				t.Fatal(err)
			}
			if err := fill(w); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			used := blocks(t, filepath.Join(root, "blobs", "raw"))
			t.Logf("%d MiB image with %d MiB of data: %d KiB on disk", len(img)>>20, len(img)>>23, used>>10)
			if data := int64(len(img) / 8); used > data*11/10 {
				t.Errorf("a %d-byte image with %d bytes of data takes %d bytes on disk, want ≤ %d", len(img), data, used, data*11/10)
			}
			info, err := d.Stat(t.Context(), "raw")
			if err != nil || info.Size != int64(len(img)) {
				t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(img))
			}
			r, err := d.Reader(t.Context(), "raw", 0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := sha512.New()
			if n, err := io.Copy(h, r); err != nil || n != int64(len(img)) || !bytes.Equal(h.Sum(nil), sum[:]) {
				t.Errorf("read back %d bytes, %v; sha512 equal: %v", n, err, bytes.Equal(h.Sum(nil), sum[:]))
			}
		})
	}
}

// TestDenseDataStaysDense: random data has no zero blocks to leave out,
// and its file is read as a plain file (sendfile stays possible).
func TestDenseDataStaysDense(t *testing.T) {
	d, root := newDriver(t)
	p := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{2}).Read(p)
	w := write(t, d, "dense", string(p))
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if used := blocks(t, filepath.Join(root, "blobs", "dense")); used < int64(len(p)) {
		t.Errorf("dense blob takes %d bytes, fewer than its %d", used, len(p))
	}
	r, err := d.Reader(t.Context(), "dense", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(*os.File); !ok {
		t.Errorf("a dense blob's reader is %T, want *os.File", r)
	}
}

// BenchmarkDownload reads the same raw image (256 MiB holding 32 MiB of
// data; 64 MiB with -short) stored sparse (by the driver) and dense (every zero written, as
// before sparse storage), into io.Discard and through a loopback TCP
// socket as a download does. The target: sparse at least as fast.
// sparse-nosendfile copies the sparse reader through Read alone (holes
// from memory, data by pread), for comparison with sendfile; socket-cold
// drops the file's pages from the page cache before each download, as
// for an image not read lately.
func BenchmarkDownload(b *testing.B) {
	size := 256 << 20
	if testing.Short() {
		size = 64 << 20 // CI's one pass over every benchmark
	}
	img := rawImage(size)
	dir := b.TempDir()
	d, err := filesystem.NewFlat(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeSynced(filepath.Join(dir, "dense"), img); err != nil {
		b.Fatal(err)
	}
	w, err := d.Writer(b.Context(), "sparse")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(img); err != nil {
		b.Fatal(err)
	}
	if err := w.Commit(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Logf("on disk: dense %d MiB, sparse %d MiB", blocks(b, filepath.Join(dir, "dense"))>>20, blocks(b, filepath.Join(dir, "sparse"))>>20)
	for _, sink := range []string{"discard", "socket", "socket-cold"} {
		for _, name := range []string{"dense", "sparse", "sparse-nosendfile"} {
			key, _, hide := strings.Cut(name, "-")
			b.Run(sink+"/"+name, func(b *testing.B) {
				dst, done := io.Writer(io.Discard), func() {}
				if sink != "discard" {
					dst, done = socket(b)
				}
				defer done()
				b.SetBytes(int64(len(img)))
				for b.Loop() {
					if sink == "socket-cold" {
						b.StopTimer()
						evict(b, filepath.Join(dir, key))
						b.StartTimer()
					}
					r, err := d.Reader(b.Context(), key, 0)
					if err != nil {
						b.Fatal(err)
					}
					var src io.Reader = r
					if hide {
						src = struct{ io.Reader }{r} // copied through Read alone
					}
					n, err := io.Copy(dst, src)
					r.Close()
					if err != nil || n != int64(len(img)) {
						b.Fatalf("read %d bytes, %v", n, err)
					}
				}
			})
		}
	}
}

// writeSynced writes a file and syncs it, so its pages are clean and can
// be evicted.
func writeSynced(path string, p []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(p); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// evict drops a file's pages from the page cache (a download of an image
// not read lately), for that file alone.
func evict(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Skipf("fadvise: %v", err)
	}
}

// socket returns the client end of a loopback TCP connection whose other
// end discards everything, and a function closing both.
func socket(b *testing.B) (io.Writer, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.CopyBuffer(io.Discard, c, make([]byte, 1<<20))
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c, func() { c.Close(); <-drained; ln.Close() }
}

// TestSparseSendfile: a sparse blob read partly through Read and then
// copied to a socket (sendfile from the file's offset) arrives whole and
// in order, from an offset too, and the reader's position is its end
// afterwards (the metrics count downloads by it).
func TestSparseSendfile(t *testing.T) {
	img := rawImage(24 << 20)
	d, _ := newDriver(t)
	w := write(t, d, "raw", string(img))
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 1<<20 - 3, 9 << 20} {
		r, err := d.Reader(t.Context(), "raw", off)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.(syscall.Conn); !ok {
			t.Fatalf("a sparse blob's reader %T offers no file for sendfile", r)
		}
		head := make([]byte, 70000)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		got := append(head, received(t, r)...)
		if !bytes.Equal(got, img[off:]) {
			t.Errorf("from %d: got %d bytes, equal: false", off, len(got))
		}
		if pos, err := r.(io.Seeker).Seek(0, io.SeekCurrent); err != nil || pos != int64(len(img)) {
			t.Errorf("from %d: position after the copy %d, %v; want %d", off, pos, err, len(img))
		}
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("from %d: Read at the end = %d, %v", off, n, err)
		}
		r.Close()
	}
}

// received copies r through a loopback TCP connection (so the socket's
// ReadFrom may use sendfile) and returns what arrived.
func received(t *testing.T, r io.Reader) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(c, r); err != nil {
		t.Fatal(err)
	}
	c.Close()
	return <-got
}
