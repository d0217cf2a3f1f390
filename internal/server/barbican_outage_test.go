package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
	"github.com/glint-image/glint/internal/signature/signtest"
)

// keyManagerLink is the network between glint B and the Barbican it
// fetches certificates from (glint A's key manager): a reverse proxy the
// test cuts. Cut, it answers as what stands in front of a Barbican that
// is down would: 503 (a load balancer with no backend), 429 (a rate
// limiter), or it drops the connection without an answer.
type keyManagerLink struct {
	mode  atomic.Value // "", "503", "429", "drop"
	proxy *httputil.ReverseProxy
}

func (l *keyManagerLink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch mode, _ := l.mode.Load().(string); mode {
	case "503":
		http.Error(w, "no server is available to handle this request", http.StatusServiceUnavailable)
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, "rate limit exceeded", http.StatusTooManyRequests)
	case "drop":
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		l.proxy.ServeHTTP(w, r)
	}
}

// TestBarbicanOutageResume: a Barbican that cannot answer now (503, 429,
// connection dropped) is not a bad certificate. A resumed part of a
// signed upload is answered 503 naming the key manager, and the bytes the
// earlier parts kept stay kept, at the same offset; once Barbican is back
// the same resume continues and the whole image is verified. A plain
// one-request upload meanwhile is 503 too, keeps nothing and leaves the
// image queued. A certificate Barbican answers is not there (404) still
// discards the kept bytes, as Glance's refusal does.
func TestBarbicanOutageResume(t *testing.T) {
	var logB lockedBuffer
	serve := func(cfg config.Config, log io.Writer) string {
		t.Helper()
		srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(log, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { ts.Close(); srv.Close() })
		return ts.URL
	}
	// A: identity and key manager, reached by B through the link.
	cfgA := config.Default()
	cfgA.DataDir, cfgA.PasswordCost, cfgA.NoDashboard = t.TempDir(), 4, true
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "pw-admin-"+strings.ToLower(rand.Text()))
	password := os.Getenv("GLINT_BOOTSTRAP_PASSWORD")
	a := serve(cfgA, io.Discard)
	aURL, _ := url.Parse(a)
	link := &keyManagerLink{proxy: httputil.NewSingleHostReverseProxy(aURL)}
	linkSrv := httptest.NewServer(link)
	t.Cleanup(linkSrv.Close)
	cfgB := config.Default()
	cfgB.DataDir, cfgB.NoDashboard = t.TempDir(), true
	cfgB.Auth = config.AuthKeystone
	cfgB.Keystone = config.Keystone{URL: a + "/identity/v3", Username: "admin", Password: password, ProjectName: "admin",
		UserDomainName: "Default", ProjectDomainName: "Default", CacheTTL: time.Minute}
	cfgB.KeyManager = config.KeyManager{Driver: config.KeyManagerBarbican, BarbicanURL: linkSrv.URL + "/key-manager"}
	b := serve(cfgB, &logB)

	tokenBody := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"` + password +
		`"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}`
	resp, err := http.Post(a+"/identity/v3/auth/tokens", "application/json", strings.NewReader(tokenBody))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("token from A: %v %v", resp, err)
	}
	resp.Body.Close()
	token := resp.Header.Get("X-Subject-Token")
	call := func(base, method, path string, header map[string]string, body []byte) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", token)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(out)
	}

	signer := signtest.NewKey(t, "rsa", "signer")
	secret, _ := json.Marshal(map[string]string{"secret_type": "certificate", "payload_content_type": "text/plain",
		"payload": string(signtest.PEM(signer.CertDER))})
	status, _, body := call(a, "POST", "/key-manager/v1/secrets", map[string]string{"Content-Type": "application/json"}, secret)
	var ref struct {
		Ref string `json:"secret_ref"`
	}
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &ref) != nil {
		t.Fatalf("storing the certificate in A: %d %s", status, body)
	}
	certID := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]

	data := make([]byte, 2<<20+33)
	rand.Read(data)
	total := len(data)
	const half = 1<<20 + 5
	create := func(name string) string {
		t.Helper()
		req, _ := json.Marshal(map[string]string{"name": name, "disk_format": "raw", "container_format": "bare",
			"img_signature": signer.SignBytes(t, data, "SHA-256"), "img_signature_hash_method": "SHA-256",
			"img_signature_key_type": "RSA-PSS", "img_signature_certificate_uuid": certID})
		status, _, out := call(b, "POST", "/v2/images", map[string]string{"Content-Type": "application/json"}, req)
		var img struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal([]byte(out), &img) != nil {
			t.Fatalf("create on B: %d %s", status, out)
		}
		return img.ID
	}
	partH := func(id string, from, to int) (int, http.Header, string) {
		t.Helper()
		return call(b, "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream",
			"Content-Range": fmt.Sprintf("bytes %d-%d/%d", from, to-1, total)}, data[from:to])
	}
	part := func(id string, from, to int) (int, string) {
		t.Helper()
		status, _, out := partH(id, from, to)
		return status, out
	}
	// kept asks B how much of id's upload it keeps, and checks the image
	// is not left in saving.
	kept := func(what, id string) string {
		t.Helper()
		status, h, out := call(b, "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream",
			"Content-Range": fmt.Sprintf("bytes */%d", total)}, nil)
		if status != http.StatusPermanentRedirect {
			t.Fatalf("%s: progress query: %d %s", what, status, out)
		}
		_, _, shown := call(b, "GET", "/v2/images/"+id, nil, nil)
		var img struct{ Status string }
		if json.Unmarshal([]byte(shown), &img) != nil || img.Status != "queued" {
			t.Errorf("%s: image %s, want queued", what, shown)
		}
		return h.Get("Upload-Offset")
	}
	keyManager := "the key manager (Barbican at " + linkSrv.URL + "/key-manager)"

	id := create("resumed through an outage")
	if status, out := part(id, 0, half); status != http.StatusPermanentRedirect {
		t.Fatalf("first part: %d %s", status, out)
	}
	plain := create("plain upload in an outage")
	for _, mode := range []string{"503", "429", "drop"} {
		link.mode.Store(mode)
		status, h, out := partH(id, half, total)
		// The wait Barbican asked for (its 429 says 1 s), else glint's
		// own 5 s.
		wantRetry := map[string]string{"503": "5", "429": "1", "drop": "5"}[mode]
		if got := h.Get("Retry-After"); got != wantRetry {
			t.Errorf("Barbican %s: resume's Retry-After %q, want %q", mode, got, wantRetry)
		}
		want := "Signature verification for image " + id + " cannot be done now: the certificate with ID " + certID +
			" could not be fetched: " + keyManager + " is unavailable."
		if status != http.StatusServiceUnavailable || !strings.Contains(out, want) {
			t.Errorf("Barbican %s: resume answered %d %s, want 503 %q", mode, status, out, want)
		}
		// The log says what Barbican answered; the client is not told.
		if cause := map[string]string{"503": "503 Service Unavailable: no server is available", "429": "429 Too Many Requests: rate limit exceeded", "drop": "EOF"}[mode]; !strings.Contains(logB.String(), cause) || strings.Contains(out, cause) {
			t.Errorf("Barbican %s: %q logged: %v, shown to the client: %v", mode, cause, strings.Contains(logB.String(), cause), strings.Contains(out, cause))
		}
		if got := kept("Barbican "+mode, id); got != fmt.Sprint(half) {
			t.Errorf("Barbican %s: Upload-Offset %s after the refused resume, want %d (the kept bytes)", mode, got, half)
		}
		status, h, out = call(b, "PUT", "/v2/images/"+plain+"/file", map[string]string{"Content-Type": "application/octet-stream"}, data)
		if status != http.StatusServiceUnavailable || !strings.Contains(out, keyManager+" is unavailable") {
			t.Errorf("Barbican %s: plain upload answered %d %s, want 503", mode, status, out)
		}
		if got := h.Get("Retry-After"); got != wantRetry {
			t.Errorf("Barbican %s: plain upload's Retry-After %q, want %q", mode, got, wantRetry)
		}
		if got := kept("plain upload, Barbican "+mode, plain); got != "0" {
			t.Errorf("Barbican %s: plain upload keeps %s bytes, want 0", mode, got)
		}
	}

	link.mode.Store("")
	if status, out := part(id, half, total); status != http.StatusNoContent {
		t.Fatalf("resume once Barbican is back: %d %s", status, out)
	}
	_, _, shown := call(b, "GET", "/v2/images/"+id, nil, nil)
	var img struct {
		Status   string
		Checksum string
	}
	sum := md5.Sum(data)
	if json.Unmarshal([]byte(shown), &img) != nil || img.Status != "active" || img.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("image after the resume: %s, want active with checksum %x", shown, sum)
	}

	// A certificate Barbican says is not there: refused, kept bytes gone.
	bad := create("certificate gone")
	if status, out := part(bad, 0, half); status != http.StatusPermanentRedirect {
		t.Fatalf("first part: %d %s", status, out)
	}
	const unknown = "11111111-2222-4333-8444-555555555555"
	patch := `[{"op":"replace","path":"/img_signature_certificate_uuid","value":"` + unknown + `"}]`
	if status, _, out := call(b, "PATCH", "/v2/images/"+bad, map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"},
		[]byte(patch)); status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", status, out)
	}
	status, out := part(bad, half, total)
	if want := "Signature verification failed for image " + bad + ": Signature verification for the image failed: Certificate not found with ID: " +
		unknown + "."; status != http.StatusBadRequest || !strings.Contains(out, want) {
		t.Errorf("unknown certificate: %d %s, want 400 %q", status, out, want)
	}
	if got := kept("unknown certificate", bad); got != "0" {
		t.Errorf("unknown certificate: Upload-Offset %s, want 0 (kept bytes discarded)", got)
	}
}

// String is all that was logged (lockedBuffer is logs_test.go's).
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
