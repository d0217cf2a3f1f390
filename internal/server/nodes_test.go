package server_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/testenv"
)

// The harness of the tests that run glint's server in their own process
// (internal/servertest) and call its API, often on several nodes.

// testS3 is a prefix of its own, name plus a random suffix, in bucket on
// the S3 test server (.ci/s3.sh), made if missing. Without the server the
// test is skipped, or fails under CI=true.
func testS3(t *testing.T, bucket, name string) config.S3 {
	t.Helper()
	endpoint := os.Getenv("GLINT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		testenv.Missing(t, "GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY, GLINT_TEST_S3_SECRET_KEY are not set")
	}
	return config.S3{Endpoint: endpoint, Bucket: bucket, Prefix: name + "-" + strings.ToLower(rand.Text())[:10] + "/",
		PathStyle: true, CreateBucket: true,
		AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}
}

// adminToken logs the bootstrap admin (in the admin project) in with
// password on the built-in identity at base.
func adminToken(t *testing.T, base, password string) string {
	t.Helper()
	auth := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"` +
		password + `"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}`
	resp, err := http.Post(base+"/identity/v3/auth/tokens", "application/json", strings.NewReader(auth))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("admin login at %s: %s", base, resp.Status)
	}
	return resp.Header.Get("X-Subject-Token")
}

// caller returns a function that sends a request to base+path with the
// headers hdr (an X-Auth-Token, or the trusted headers of a caller) and
// ctype as its Content-Type if not empty; it answers the status and the
// body.
func caller(t *testing.T, hdr map[string]string) func(base, method, path, ctype string, body []byte) (int, []byte) {
	return func(base, method, path, ctype string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
}
