package keymanagerapi_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/keymanagerapi"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// server is the secrets API over the built-in key manager on SQLite,
// mounted as glint mounts it, with trusted-headers authentication.
func server(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := keymanager.NewService(st, keymanager.Options{Key: key, MaxPayload: 1000})
	if err != nil {
		t.Fatal(err)
	}
	h := keymanagerapi.New(svc, auth.TrustedHeaders{}, slog.New(slog.NewTextHandler(io.Discard, nil)), keymanagerapi.Options{})
	mux := http.NewServeMux()
	mux.Handle(keymanagerapi.PathPrefix+"/", http.StripPrefix(keymanagerapi.PathPrefix, h))
	mux.Handle(keymanagerapi.PathPrefix, http.StripPrefix(keymanagerapi.PathPrefix, h))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL + keymanagerapi.PathPrefix
}

type answer struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url string, hdr map[string]string, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

var member = map[string]string{"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member", "Content-Type": "application/json"}

// TestAPI: Barbican's answers for the secrets API's requests.
func TestAPI(t *testing.T) {
	base := server(t)
	if a := call(t, "GET", base, nil, ""); a.status != http.StatusMultipleChoices || !strings.Contains(a.body, `"id":"v1"`) {
		t.Errorf("versions: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", base+"/v1/", nil, ""); a.status != http.StatusOK || !strings.Contains(a.body, base+"/v1/") {
		t.Errorf("version: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", base+"/v1/secrets", nil, ""); a.status != http.StatusUnauthorized || !strings.Contains(a.body, `"code":401`) {
		t.Errorf("no credentials: %d %s", a.status, a.body)
	}
	textHdr := map[string]string{"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member", "Content-Type": "text/plain"}
	for _, c := range []struct {
		name string
		hdr  map[string]string
		body string
		want int
	}{
		{"not JSON", textHdr, `{}`, http.StatusUnsupportedMediaType},
		{"malformed JSON", member, `{"payload":`, http.StatusBadRequest},
		{"body past the bound", member, `{"payload":"` + strings.Repeat("a", 20000) + `"}`, http.StatusRequestEntityTooLarge},
		{"payload past the bound", member, `{"payload":"` + strings.Repeat("a", 1001) + `","payload_content_type":"text/plain"}`, http.StatusRequestEntityTooLarge},
		{"bad expiration", member, `{"payload":"a","payload_content_type":"text/plain","expiration":"soon"}`, http.StatusBadRequest},
	} {
		if a := call(t, "POST", base+"/v1/secrets", c.hdr, c.body); a.status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, a.status, a.body, c.want)
		}
	}
	var refs []string
	for i := range 3 {
		a := call(t, "POST", base+"/v1/secrets/", member, fmt.Sprintf(`{"name":"s%d","payload":"secret %d","payload_content_type":"text/plain","expiration":"2099-01-01T00:00:00"}`, i, i))
		var out struct {
			Ref string `json:"secret_ref"`
		}
		if a.status != http.StatusCreated || json.Unmarshal([]byte(a.body), &out) != nil || a.header.Get("Location") != out.Ref {
			t.Fatalf("create: %d %s", a.status, a.body)
		}
		refs = append(refs, out.Ref)
	}
	a := call(t, "GET", refs[1], member, "")
	var meta map[string]any
	json.Unmarshal([]byte(a.body), &meta)
	if a.status != 200 || meta["name"] != "s1" || meta["secret_type"] != "opaque" || meta["status"] != "ACTIVE" ||
		meta["expiration"] != "2099-01-01T00:00:00+00:00" || fmt.Sprint(meta["content_types"]) != "map[default:text/plain]" {
		t.Errorf("metadata: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", refs[1]+"/payload", map[string]string{"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member", "Accept": "text/plain"}, ""); a.status != 200 || a.body != "secret 1" {
		t.Errorf("payload: %d %q", a.status, a.body)
	}
	if a := call(t, "GET", refs[1]+"/payload", map[string]string{"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member", "Accept": "application/pkcs8"}, ""); a.status != http.StatusNotAcceptable {
		t.Errorf("payload in another type: %d %q", a.status, a.body)
	}
	if a := call(t, "GET", refs[1], map[string]string{"X-Project-Id": "p1", "X-User-Id": "u1", "X-Roles": "member", "Accept": "text/plain"}, ""); a.status != 200 || a.body != "secret 1" {
		t.Errorf("legacy payload GET: %d %q", a.status, a.body)
	}
	if a := call(t, "PUT", refs[1], member, "more"); a.status != http.StatusConflict {
		t.Errorf("PUT: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", refs[1], map[string]string{"X-Project-Id": "p2", "X-User-Id": "u2", "X-Roles": "member"}, ""); a.status != http.StatusForbidden {
		t.Errorf("another project: %d %s", a.status, a.body)
	}
	var page struct {
		Secrets        []map[string]any
		Total          int
		Next, Previous string
	}
	a = call(t, "GET", base+"/v1/secrets?limit=1&offset=1", member, "")
	if json.Unmarshal([]byte(a.body), &page); a.status != 200 || page.Total != 3 || len(page.Secrets) != 1 || page.Secrets[0]["secret_ref"] != refs[1] ||
		page.Next != base+"/v1/secrets?limit=1&offset=2" || page.Previous != base+"/v1/secrets?limit=1&offset=0" {
		t.Errorf("page: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", base+"/v1/secrets?limit=x", member, ""); a.status != http.StatusBadRequest {
		t.Errorf("bad limit: %d", a.status)
	}
	if a := call(t, "DELETE", refs[0], member, ""); a.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", refs[0], member, ""); a.status != http.StatusNotFound || !strings.Contains(a.body, "Secret not found.") {
		t.Errorf("deleted: %d %s", a.status, a.body)
	}
}
