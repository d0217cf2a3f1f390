//go:build ceph

package rbd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/blobtest"
	"github.com/glint-image/glint/internal/blob/rbd"
	"github.com/glint-image/glint/internal/metrics"
)

// testConfig is the cluster .ci/ceph.sh starts; the tests skip without
// it (CI always sets it).
func testConfig(t testing.TB) rbd.Config {
	t.Helper()
	conf := os.Getenv("GLINT_TEST_CEPH_CONF")
	if conf == "" {
		t.Skip("GLINT_TEST_CEPH_CONF not set (source .ci/ceph.sh for a throwaway cluster)")
	}
	return rbd.Config{ConfFile: conf, Keyring: os.Getenv("GLINT_TEST_CEPH_KEYRING"),
		User: os.Getenv("GLINT_TEST_CEPH_USER"), Pool: os.Getenv("GLINT_TEST_CEPH_POOL")}
}

func open(t testing.TB, cfg rbd.Config) *rbd.Driver {
	t.Helper()
	d, err := rbd.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("rbd.New: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// cli runs the rbd command as the test client and returns its stdout.
func cli(t testing.TB, cfg rbd.Config, args ...string) []byte {
	t.Helper()
	out, err := cliErr(cfg, args...)
	if err != nil {
		t.Fatalf("rbd %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func cliErr(cfg rbd.Config, args ...string) ([]byte, error) {
	base := []string{"--conf", cfg.ConfFile, "--id", cfg.User, "--keyring", cfg.Keyring, "--pool", cfg.Pool}
	cmd := exec.Command("rbd", append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, errors.New(err.Error() + ": " + stderr.String())
	}
	return out, nil
}

func TestConformance(t *testing.T) {
	cfg := testConfig(t)
	cfg.ChunkSizeMiB = 1 // many chunks, so growth and chunking are exercised
	blobtest.Run(t, func(t *testing.T) blob.Driver { return open(t, cfg) }, blobtest.WithoutStableReaders())
}

func TestConformanceThin(t *testing.T) {
	cfg := testConfig(t)
	cfg.ThinProvisioning = true
	blobtest.Run(t, func(t *testing.T) blob.Driver { return open(t, cfg) }, blobtest.WithoutStableReaders())
}

func put(t *testing.T, d blob.Driver, key string, p []byte) {
	t.Helper()
	w, err := d.Writer(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestCloneFromSnapshot does what Nova does with an RBD-backed image: it
// clones the image's protected snapshot, and the clone holds the image's
// bytes. While the clone exists the image cannot be deleted (ErrInUse)
// and loses nothing; once it is gone, Delete works.
func TestCloneFromSnapshot(t *testing.T) {
	cfg := testConfig(t)
	d := open(t, cfg)
	key := "clone-src-" + rand.Text()[:8]
	want := make([]byte, 9<<20+12345) // not a multiple of the chunk size
	rand.Read(want)
	put(t, d, key, want)
	t.Cleanup(func() { d.Delete(context.Background(), key) })

	if got := d.URL(key); got != "rbd://"+d.FSID()+"/"+cfg.Pool+"/"+key+"/snap" {
		t.Errorf("URL = %s", got)
	}
	info := string(cli(t, cfg, "info", key+"@snap"))
	if !strings.Contains(info, "protected: True") {
		t.Errorf("snapshot not protected:\n%s", info)
	}
	if got := cli(t, cfg, "export", key+"@snap", "-"); !bytes.Equal(got, want) {
		t.Errorf("rbd export of the snapshot: %d bytes, want the %d written", len(got), len(want))
	}

	clone := key + "-disk"
	cli(t, cfg, "clone", cfg.Pool+"/"+key+"@snap", cfg.Pool+"/"+clone)
	t.Cleanup(func() { cliErr(cfg, "rm", clone) })
	if got := cli(t, cfg, "export", clone, "-"); !bytes.Equal(got, want) {
		t.Fatalf("rbd export of the clone: %d bytes differing from the %d written", len(got), len(want))
	}

	if err := d.InUse(t.Context(), key); !errors.Is(err, blob.ErrInUse) {
		t.Errorf("InUse with a clone = %v, want ErrInUse", err)
	}
	if err := d.Delete(t.Context(), key); !errors.Is(err, blob.ErrInUse) {
		t.Fatalf("Delete with a clone = %v, want ErrInUse", err)
	}
	// Nothing lost: the blob reads back whole, still protected, and the
	// clone is intact.
	if got := readAll(t, d, key); !bytes.Equal(got, want) {
		t.Error("blob changed after the refused Delete")
	}
	if info := string(cli(t, cfg, "info", key+"@snap")); !strings.Contains(info, "protected: True") {
		t.Errorf("snapshot unprotected by the refused Delete:\n%s", info)
	}
	if got := cli(t, cfg, "export", clone, "-"); !bytes.Equal(got, want) {
		t.Error("clone changed after the refused Delete")
	}

	cli(t, cfg, "rm", clone)
	if err := d.InUse(t.Context(), key); err != nil {
		t.Errorf("InUse without clones = %v", err)
	}
	if err := d.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete after the clone went: %v", err)
	}
	if _, err := cliErr(cfg, "info", key); err == nil {
		t.Error("the RBD image is still there after Delete")
	}
	if err := d.InUse(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("InUse of a deleted blob = %v, want ErrNotFound", err)
	}
}

func readAll(t *testing.T, d blob.Driver, key string) []byte {
	t.Helper()
	r, err := d.Reader(t.Context(), key, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestThinProvisioning: chunks of zeros are not written, so they take no
// space in the pool, and still read back as zeros.
func TestThinProvisioning(t *testing.T) {
	cfg := testConfig(t)
	cfg.ThinProvisioning = true
	cfg.ChunkSizeMiB = 1
	d := open(t, cfg)
	key := "thin-" + rand.Text()[:8]
	want := make([]byte, 16<<20)
	rand.Read(want[:1<<20]) // one chunk of data, fifteen of zeros
	put(t, d, key, want)
	t.Cleanup(func() { d.Delete(context.Background(), key) })
	if got := readAll(t, d, key); !bytes.Equal(got, want) {
		t.Fatal("thin image reads back different")
	}
	// rbd du: PROVISIONED and USED of the image and its snapshot, in
	// bytes; 16 MiB provisioned, only about 1 MiB used.
	du := string(cli(t, cfg, "du", "--format", "json", key))
	if !strings.Contains(du, `"provisioned_size":16777216`) {
		t.Errorf("rbd du: %s", du)
	}
	if used := usedBytes(du); used > 2<<20 {
		t.Errorf("thin image uses %d bytes, want about 1 MiB (du: %s)", used, du)
	}
}

// usedBytes sums the used_size fields of rbd du's JSON.
func usedBytes(du string) int64 {
	var total int64
	for _, part := range strings.Split(du, `"used_size":`)[1:] {
		var n int64
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int64(c-'0')
		}
		total += n
	}
	return total
}

// TestSweepRemovesAbandoned: a writer's temporary image left by a
// crashed process (no watcher, old enough) goes; committed blobs and a
// live writer's image stay.
func TestSweepRemovesAbandoned(t *testing.T) {
	cfg := testConfig(t)
	d := open(t, cfg)
	key := "sweep-" + rand.Text()[:8]
	put(t, d, key, []byte("kept"))
	t.Cleanup(func() { d.Delete(context.Background(), key) })

	live, err := d.Writer(t.Context(), key+"-live")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Cancel(context.Background()) })
	live.Write([]byte("in progress"))

	crashed, err := d.Writer(t.Context(), key+"-crashed")
	if err != nil {
		t.Fatal(err)
	}
	crashed.Write([]byte("abandoned"))
	rbd.Abandon(crashed) // as if the process died: the image stays, unwatched

	rbd.SetSweepAge(d, 0)
	if err := d.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	names := string(cli(t, cfg, "ls"))
	if strings.Contains(names, key+"-crashed+") {
		t.Errorf("abandoned temporary image survived Sweep:\n%s", names)
	}
	if !strings.Contains(names, key+"-live+") {
		t.Errorf("Sweep removed a live writer's image:\n%s", names)
	}
	if got := readAll(t, d, key); string(got) != "kept" {
		t.Errorf("committed blob after Sweep: %q", got)
	}
	if err := live.Commit(t.Context()); err != nil {
		t.Fatalf("live writer's Commit after Sweep: %v", err)
	}
	d.Delete(context.Background(), key+"-live")
}

func TestNewRefusesWrongPool(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pool = "no-such-pool"
	if _, err := rbd.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "no-such-pool") {
		t.Errorf("New with a missing pool = %v, want an error naming it", err)
	}
}

// TestSizeHintGrowsOnce: a writer told the blob's size sizes its image
// once, at the first chunk, to that size, as uploads with a declared size
// reach it (through the metrics wrapper, as a resumable writer); without
// a size the image grows in steps from one chunk. Either way the blob is
// exactly what was written.
func TestSizeHintGrowsOnce(t *testing.T) {
	cfg := testConfig(t)
	cfg.ChunkSizeMiB = 1
	d := metrics.New().Driver("rbd", open(t, cfg))
	const chunk, size = 1 << 20, 9<<20 + 12345
	want := make([]byte, size)
	rand.Read(want)
	for _, hint := range []int64{size, -1} {
		key := fmt.Sprintf("hint-%d-%s", hint, rand.Text()[:8])
		r, ok := blob.As[blob.Resumer](d)
		if !ok {
			t.Fatal("the wrapped rbd driver is no blob.Resumer")
		}
		w, err := r.ResumableWriter(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Cancel(context.Background()); d.Delete(context.Background(), key) })
		blob.HintSize(w, hint)
		// The image's size once the first chunk, then all but the
		// last partial chunk, went out.
		var sizes []int64
		for _, upTo := range []int{chunk, size / chunk * chunk} {
			if _, err := w.Write(want[w.Size():upTo]); err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, tempImageSize(t, cfg, key))
		}
		wantSizes := []int64{size, size}
		if hint < 0 {
			wantSizes = []int64{chunk, 15 << 20} // 1, then 1+2+4+8 MiB
		}
		if !slices.Equal(sizes, wantSizes) {
			t.Errorf("hint %d: image sizes %v after the first chunk and after 9 MiB, want %v", hint, sizes, wantSizes)
		}
		if _, err := w.Write(want[w.Size():]); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		if info, err := d.Stat(t.Context(), key); err != nil || info.Size != size {
			t.Errorf("hint %d: Stat = %+v, %v; want %d bytes", hint, info, err, size)
		}
		if got := readAll(t, d, key); !bytes.Equal(got, want) {
			t.Errorf("hint %d: the blob reads back different", hint)
		}
	}
}

// tempImageSize is the size of the one temporary image of key's writer,
// as rbd info reports it.
func tempImageSize(t *testing.T, cfg rbd.Config, key string) int64 {
	t.Helper()
	var names []string
	for _, name := range strings.Fields(string(cli(t, cfg, "ls"))) {
		if strings.HasPrefix(name, key+"+") {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("temporary images of %s: %v, want one", key, names)
	}
	var info struct{ Size int64 }
	if err := json.Unmarshal(cli(t, cfg, "info", "--format", "json", names[0]), &info); err != nil {
		t.Fatal(err)
	}
	return info.Size
}
