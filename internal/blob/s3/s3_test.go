package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/blobtest"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/testenv"
)

// server is the S3 endpoint the tests run against, from the environment.
type server struct {
	endpoint, accessKey, secretKey string
	raw                            *minio.Core // for looking behind the driver's back
}

func testServer(t testing.TB) server {
	t.Helper()
	s := server{
		endpoint:  os.Getenv("GLINT_TEST_S3_ENDPOINT"),
		accessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"),
		secretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY"),
	}
	if s.endpoint == "" || s.accessKey == "" || s.secretKey == "" {
		testenv.Missing(t, "no S3 server: set GLINT_TEST_S3_ENDPOINT (host:port), GLINT_TEST_S3_ACCESS_KEY and GLINT_TEST_S3_SECRET_KEY (.ci/s3.sh starts versitygw and sets them)")
	}
	raw, err := minio.NewCore(s.endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.accessKey, s.secretKey, ""),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.raw = raw
	return s
}

// config is a driver configuration for bucket and prefix on s, with the
// smallest part size S3 allows, so multipart uploads start at 5 MiB.
func (s server) config(bucket, prefix string) s3.Config {
	return s3.Config{
		Endpoint:  s.endpoint,
		Bucket:    bucket,
		Prefix:    prefix,
		AccessKey: s.accessKey,
		SecretKey: s.secretKey,
		PathStyle: true,
		PartSize:  s3.MinPartSize,
	}
}

// randomName is 12 random lower-case letters and digits.
func randomName() string {
	return strings.ToLower(rand.Text()[:12])
}

// newBucket creates a bucket for one test (through the driver's
// CreateBucket) and removes it when the test ends, emptying it first if a
// failed test left something behind.
func newBucket(t testing.TB, s server) string {
	t.Helper()
	name := "glint-test-" + randomName()
	cfg := s.config(name, "")
	cfg.CreateBucket = true
	if _, err := s3.New(t.Context(), cfg); err != nil {
		t.Fatalf("New with CreateBucket: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, key := range leftovers(t, s, name, "") {
			s.raw.RemoveObject(ctx, name, key, minio.RemoveObjectOptions{})
			s.raw.RemoveIncompleteUpload(ctx, name, key)
		}
		if err := s.raw.RemoveBucket(ctx, name); err != nil {
			t.Errorf("cleanup: removing bucket %s: %v", name, err)
		}
	})
	return name
}

// newDriver returns a driver on its own prefix of bucket. When the test
// ends (after the test's own cleanups) the prefix must hold no objects
// and no incomplete uploads: the suite deletes what it commits, so
// anything left is a leak.
func newDriver(t testing.TB, s server, bucket string) *s3.Driver {
	t.Helper()
	prefix := "case-" + randomName() + "/"
	d, err := s3.New(t.Context(), s.config(bucket, prefix))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if left := leftovers(t, s, bucket, prefix); len(left) > 0 {
			t.Errorf("left under %s: %v", prefix, left)
		}
	})
	return d
}

// leftovers lists the objects and incomplete uploads under prefix, the
// uploads marked "(upload)".
func leftovers(t testing.TB, s server, bucket, prefix string) []string {
	ctx := context.Background()
	var found []string
	for obj := range s.raw.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Errorf("listing %s/%s: %v", bucket, prefix, obj.Err)
			break
		}
		found = append(found, obj.Key)
	}
	return append(found, incompleteUploads(t, s, bucket, prefix)...)
}

// incompleteUploads names the multipart uploads under prefix, marked
// "(upload)".
func incompleteUploads(t testing.TB, s server, bucket, prefix string) []string {
	var found []string
	for _, up := range uploads(t, s, bucket, prefix) {
		found = append(found, up.Key+" (upload)")
	}
	return found
}

func uploads(t testing.TB, s server, bucket, prefix string) []minio.ObjectMultipartInfo {
	var found []minio.ObjectMultipartInfo
	for up := range s.raw.ListIncompleteUploads(context.Background(), bucket, prefix, true) {
		if up.Err != nil {
			t.Errorf("listing uploads in %s/%s: %v", bucket, prefix, up.Err)
			break
		}
		found = append(found, up)
	}
	return found
}

func TestConformance(t *testing.T) {
	s := testServer(t)
	bucket := newBucket(t, s)
	blobtest.Run(t, func(t *testing.T) blob.Driver { return newDriver(t, s, bucket) })
}

func BenchmarkDriver(b *testing.B) {
	s := testServer(b)
	bucket := newBucket(b, s)
	blobtest.Bench(b, func(tb testing.TB) blob.Driver { return newDriver(tb, s, bucket) })
}

// fixture is one driver on a fresh prefix, with what tests need to look
// behind its back.
type fixture struct {
	s      server
	bucket string
	d      *s3.Driver
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s := testServer(t)
	bucket := newBucket(t, s)
	return fixture{s: s, bucket: bucket, d: newDriver(t, s, bucket)}
}

// writeAll writes p in odd-sized chunks, so Writes straddle part
// boundaries.
func writeAll(t *testing.T, w blob.Writer, p []byte) {
	t.Helper()
	for len(p) > 0 {
		n := min(len(p), 1<<20+7)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		p = p[n:]
	}
}

func newWriter(t *testing.T, d blob.Driver, key string) blob.Writer {
	t.Helper()
	w, err := d.Writer(t.Context(), key)
	if err != nil {
		t.Fatalf("Writer(%q): %v", key, err)
	}
	t.Cleanup(func() { w.Cancel(context.Background()) })
	return w
}

// TestMultipartRoundTrip writes 3 × PartSize + 1 bytes, four parts with
// a one-byte last part, and reads it back whole and from inside the last
// full part.
func TestMultipartRoundTrip(t *testing.T) {
	f := newFixture(t)
	const size = 3*s3.MinPartSize + 1
	want := make([]byte, size)
	rand.Read(want)
	w := newWriter(t, f.d, "multi/part")
	writeAll(t, w, want)
	if w.Size() != size {
		t.Errorf("Size() = %d, want %d", w.Size(), size)
	}
	// Parts are uploading, so there is an upload, but no object yet.
	if _, err := f.d.Stat(t.Context(), "multi/part"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat before Commit: %v, want ErrNotFound", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	t.Cleanup(func() { f.d.Delete(context.Background(), "multi/part") })
	if up := incompleteUploads(t, f.s, f.bucket, ""); len(up) > 0 {
		t.Errorf("incomplete uploads after Commit: %v", up)
	}
	if info, err := f.d.Stat(t.Context(), "multi/part"); err != nil || info.Size != size {
		t.Errorf("Stat = %+v, %v; want size %d", info, err, size)
	}
	for _, off := range []int64{0, 3*s3.MinPartSize - 10} {
		r, err := f.d.Reader(t.Context(), "multi/part", off)
		if err != nil {
			t.Fatalf("Reader at %d: %v", off, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("reading at %d: %v", off, err)
		}
		if sha256.Sum256(got) != sha256.Sum256(want[off:]) {
			t.Errorf("read at %d: %d bytes that differ from the %d written", off, len(got), len(want[off:]))
		}
	}
}

// TestPartsGrow: parts grow by PartSize every partsPerStep parts, so big
// blobs fit in S3's 10,000 parts. With two parts per step, 45 MiB + 1
// byte at 5 MiB goes as parts of 5, 5, 10, 10 and 15 MiB and a last byte:
// six parts where fixed 5 MiB parts would take ten. A multipart object's
// ETag ends in its part count.
func TestPartsGrow(t *testing.T) {
	f := newFixture(t)
	s3.SetPartsPerStep(f.d, 2)
	const size = 9*s3.MinPartSize + 1
	want := make([]byte, size)
	rand.Read(want)
	w := newWriter(t, f.d, "grow")
	writeAll(t, w, want)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	t.Cleanup(func() { f.d.Delete(context.Background(), "grow") })
	info, err := f.s.raw.StatObject(t.Context(), f.bucket, f.d.Object("grow"), minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	if info.Size != size || !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-6") {
		t.Errorf("object: size %d, ETag %s; want size %d and 6 parts", info.Size, info.ETag, size)
	}
	r, err := f.d.Reader(t.Context(), "grow", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("read back %d bytes (%v), not the %d written", len(got), err, size)
	}
}

// TestStableReaderLarge backs the conformance suite's Overwrite case,
// whose blob is small enough to sit whole in socket buffers: a reader of
// a 4-part blob opened before an overwrite must still get the old bytes.
func TestStableReaderLarge(t *testing.T) {
	f := newFixture(t)
	old := bytes.Repeat([]byte("o"), 4*s3.MinPartSize)
	commit(t, f.d, "stable", old)
	t.Cleanup(func() { f.d.Delete(context.Background(), "stable") })
	r, err := f.d.Reader(t.Context(), "stable", 0)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 10)); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	commit(t, f.d, "stable", bytes.Repeat([]byte("n"), len(old)))
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, old[10:]) {
		t.Errorf("reader opened before the overwrite read %d bytes (%v), not the old blob's %d", len(rest), err, len(old)-10)
	}
}

func commit(t *testing.T, d blob.Driver, key string, p []byte) {
	t.Helper()
	w := newWriter(t, d, key)
	writeAll(t, w, p)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

// TestCancelAbortsUpload cancels a writer whose parts are already on the
// server: the multipart upload must be gone, not just left to expire.
func TestCancelAbortsUpload(t *testing.T) {
	f := newFixture(t)
	w := newWriter(t, f.d, "cancel/me")
	writeAll(t, w, make([]byte, 2*s3.MinPartSize+1))
	if up := incompleteUploads(t, f.s, f.bucket, ""); len(up) != 1 {
		t.Fatalf("incomplete uploads while writing: %v, want one", up)
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if up := incompleteUploads(t, f.s, f.bucket, ""); len(up) > 0 {
		t.Errorf("incomplete uploads after Cancel: %v", up)
	}
	if _, err := f.d.Stat(t.Context(), "cancel/me"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Cancel: %v, want ErrNotFound", err)
	}
}

// TestCancelSpareSameKey: Cancel aborts its own upload by ID, so another
// writer to the same key carries on and commits.
func TestCancelSpareSameKey(t *testing.T) {
	f := newFixture(t)
	a, b := newWriter(t, f.d, "same"), newWriter(t, f.d, "same")
	want := bytes.Repeat([]byte("b"), s3.MinPartSize+1)
	writeAll(t, a, make([]byte, s3.MinPartSize+1))
	writeAll(t, b, want)
	if err := a.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := b.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of the other writer: %v", err)
	}
	t.Cleanup(func() { f.d.Delete(context.Background(), "same") })
	if info, err := f.d.Stat(t.Context(), "same"); err != nil || info.Size != int64(len(want)) {
		t.Errorf("Stat = %+v, %v; want size %d", info, err, len(want))
	}
}

// TestPartFailure aborts the upload behind the writer's back, so its
// next part fails: the failure must reach a later Write and Commit, and
// Cancel must still succeed.
func TestPartFailure(t *testing.T) {
	f := newFixture(t)
	w := newWriter(t, f.d, "doomed")
	writeAll(t, w, make([]byte, s3.MinPartSize+1))
	ups := uploads(t, f.s, f.bucket, "")
	if len(ups) != 1 {
		t.Fatalf("uploads while writing: %v, want one", ups)
	}
	// Wait for part 1 to be stored: an abort while the server is still
	// storing a part can be undone by it.
	up := ups[0]
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		parts, err := f.s.raw.ListObjectParts(t.Context(), f.bucket, up.Key, up.UploadID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts.ObjectParts) == 1 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("part 1 not stored after 10 s")
		}
	}
	if err := f.s.raw.AbortMultipartUpload(t.Context(), f.bucket, up.Key, up.UploadID); err != nil {
		t.Fatal(err)
	}
	var err error
	// Parts upload in the background: write until the failure shows.
	for range 10 {
		if _, err = w.Write(make([]byte, s3.MinPartSize)); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatalf("Writes kept succeeding after the upload was aborted")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("Write after a failed part succeeded")
	}
	if err := w.Commit(t.Context()); err == nil {
		t.Errorf("Commit after a failed part succeeded")
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Errorf("Cancel after a failed Commit: %v", err)
	}
	if _, err := f.d.Stat(t.Context(), "doomed"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat: %v, want ErrNotFound", err)
	}
}

// TestCancelledContext: ending the Writer's ctx stops the upload; ending
// Commit's fails it. Either way nothing is left behind.
func TestCancelledContext(t *testing.T) {
	f := newFixture(t)
	t.Run("writer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := f.d.Writer(ctx, "ctx/writer")
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, make([]byte, s3.MinPartSize+1))
		cancel()
		if _, err := w.Write([]byte("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("Write: %v, want context.Canceled", err)
		}
		if err := w.Commit(t.Context()); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit: %v, want context.Canceled", err)
		}
	})
	t.Run("commit", func(t *testing.T) {
		w := newWriter(t, f.d, "ctx/commit")
		writeAll(t, w, make([]byte, s3.MinPartSize+1))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := w.Commit(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit: %v, want context.Canceled", err)
		}
	})
	for _, key := range []string{"ctx/writer", "ctx/commit"} {
		if _, err := f.d.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q): %v, want ErrNotFound", key, err)
		}
	}
	if up := incompleteUploads(t, f.s, f.bucket, ""); len(up) > 0 {
		t.Errorf("incomplete uploads: %v", up)
	}
}

// TestSweep leaves uploads behind as a crashed process would: Sweep
// aborts those under the driver's prefix and no others.
func TestSweep(t *testing.T) {
	f := newFixture(t)
	other := newDriver(t, f.s, f.bucket)
	for _, up := range []struct {
		d   *s3.Driver
		key string
	}{{f.d, "crashed/one"}, {f.d, "crashed/two"}, {other, "elsewhere"}} {
		w, err := up.d.Writer(t.Context(), up.key)
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, make([]byte, s3.MinPartSize+1)) // never committed or cancelled
		if up.d == other {
			t.Cleanup(func() { w.Cancel(context.Background()) })
		}
	}
	all := incompleteUploads(t, f.s, f.bucket, "")
	if len(all) != 3 {
		t.Fatalf("incomplete uploads before Sweep: %v, want 3", all)
	}
	if err := f.d.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	left := incompleteUploads(t, f.s, f.bucket, "")
	if len(left) != 1 || !strings.HasSuffix(strings.TrimSuffix(left[0], " (upload)"), "/elsewhere") {
		t.Errorf("incomplete uploads after Sweep: %v, want only the other prefix's elsewhere", left)
	}
}

func TestNew(t *testing.T) {
	s := testServer(t)
	missing := "glint-test-" + randomName()
	if _, err := s3.New(t.Context(), s.config(missing, "")); err == nil || !strings.Contains(err.Error(), "CreateBucket") {
		t.Errorf("New on a missing bucket: %v, want an error pointing at CreateBucket", err)
	}
	if ok, _ := s.raw.BucketExists(t.Context(), missing); ok {
		t.Errorf("New created bucket %s without CreateBucket", missing)
	}
	bucket := newBucket(t, s)
	cfg := s.config(bucket, "")
	cfg.CreateBucket = true
	if _, err := s3.New(t.Context(), cfg); err != nil {
		t.Errorf("New with CreateBucket on an existing bucket: %v", err)
	}
	cfg.SecretKey = "wrong"
	if _, err := s3.New(t.Context(), cfg); err == nil {
		t.Errorf("New with a wrong secret key succeeded")
	}
	if _, err := s3.New(t.Context(), s3.Config{Bucket: bucket}); err == nil || !strings.Contains(err.Error(), "Endpoint") {
		t.Errorf("New with an invalid config: %v, want the Validate error", err)
	}
}
