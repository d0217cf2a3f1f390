package api_test

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// The whole API suite runs on two backends: the embedded default (SQLite
// and files) and the scaled-out one (PostgreSQL and S3). TestMain runs the
// suite once more with GLINT_TEST_API_BACKEND=postgres+s3 when the
// PostgreSQL and S3 test servers are configured, so `go test ./...` covers
// both with the same tests.
const backendVar = "GLINT_TEST_API_BACKEND"

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || os.Getenv(backendVar) != "" || os.Getenv(pgtest.DSNVar) == "" || os.Getenv("GLINT_TEST_S3_ENDPOINT") == "" {
		os.Exit(code)
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), backendVar+"=postgres+s3")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		os.Stderr.WriteString("the API suite failed on PostgreSQL+S3: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// s3Bucket holds every test's objects, each test under its own prefix.
const s3Bucket = "glint-api-test"

// useBackend points cfg at the backend this run tests.
func useBackend(t testing.TB, cfg *config.Config, e *env) {
	if os.Getenv(backendVar) != "postgres+s3" {
		return
	}
	cfg.Metadata = config.Metadata{Driver: "postgres", DSN: pgtest.Schema(t)}
	e.s3Prefix = "api-" + strings.ToLower(rand.Text())[:12] + "/"
	cfg.SingleStore = &config.Store{Type: "s3", S3: config.S3{Endpoint: os.Getenv("GLINT_TEST_S3_ENDPOINT"),
		Bucket: s3Bucket, Prefix: e.s3Prefix, PathStyle: true, CreateBucket: true,
		AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}}
}

// blobCount is the number of committed image blobs of the default store.
func (e *env) blobCount(t testing.TB) int {
	t.Helper()
	if e.s3Prefix == "" {
		return countFiles(t, filepath.Join(e.dir, "images", "blobs"))
	}
	n := 0
	for obj := range e.s3(t).ListObjects(context.Background(), s3Bucket, minio.ListObjectsOptions{Prefix: e.s3Prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if !strings.HasPrefix(obj.Key, e.s3Prefix+".resume/") { // a partial upload's tail
			n++
		}
	}
	return n
}

// partialCount is the number of unfinished uploads the store holds: temp
// files and partial uploads' files, or incomplete multipart uploads.
func (e *env) partialCount(t testing.TB) int {
	t.Helper()
	if e.s3Prefix == "" {
		n := countFiles(t, filepath.Join(e.dir, "images", "tmp"))
		if _, err := os.Stat(filepath.Join(e.dir, "images", "tmp-partial")); err == nil {
			n += countFiles(t, filepath.Join(e.dir, "images", "tmp-partial"))
		}
		return n
	}
	n := 0
	for up := range e.s3(t).ListIncompleteUploads(context.Background(), s3Bucket, e.s3Prefix, true) {
		if up.Err != nil {
			t.Fatal(up.Err)
		}
		n++
	}
	return n
}

func (e *env) assertNoPartialData(t testing.TB) {
	t.Helper()
	if n := e.partialCount(t); n != 0 {
		t.Fatalf("%d partial uploads left behind", n)
	}
}

func (e *env) s3(t testing.TB) *minio.Client {
	c, err := minio.New(os.Getenv("GLINT_TEST_S3_ENDPOINT"), &minio.Options{
		Creds: credentials.NewStaticV4(os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), os.Getenv("GLINT_TEST_S3_SECRET_KEY"), ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
