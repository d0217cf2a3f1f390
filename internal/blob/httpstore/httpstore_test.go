package httpstore_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/httpstore"
	"github.com/glint-image/glint/internal/webfetch"
)

func policy(networks ...string) webfetch.Policy {
	pol := webfetch.Policy{AllowedSchemes: []string{"http", "https"}, MaxRedirects: 2,
		ConnectTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, TotalTimeout: 30 * time.Second}
	for _, n := range networks {
		pol.AllowedNetworks = append(pol.AllowedNetworks, netip.MustParsePrefix(n))
	}
	return pol
}

// TestReadOnlyStore: reads at an offset (from a server that ignores
// ranges too), the size from HEAD, a missing URL is ErrNotFound, writes
// are refused and deletes send nothing.
func TestReadOnlyStore(t *testing.T) {
	data := strings.Repeat("0123456789", 1000)
	var others atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			others.Add(1)
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.URL.Path == "/ranged":
			http.ServeContent(w, r, "x", time.Time{}, strings.NewReader(data))
		case r.URL.Path == "/whole": // ignores Range
			w.Header().Set("Content-Length", "10000")
			io.WriteString(w, data)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	d := httpstore.New(policy("127.0.0.0/8"))
	for _, path := range []string{"/ranged", "/whole"} {
		key, ok, err := d.KeyFor(srv.URL + path)
		if !ok || err != nil || !blob.ValidKey(key) || d.URL(key) != srv.URL+path {
			t.Fatalf("KeyFor(%s) = %q %v %v", path, key, ok, err)
		}
		info, err := d.Stat(t.Context(), key)
		if err != nil || info.Size != int64(len(data)) {
			t.Errorf("Stat %s: %+v %v", path, info, err)
		}
		rc, err := d.Reader(t.Context(), key, 4321)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != data[4321:] {
			t.Errorf("Reader(%s, 4321): %d bytes, %v", path, len(got), err)
		}
		if err := d.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete: %v", err)
		}
	}
	missing := httpstore.Key(srv.URL + "/missing")
	if _, err := d.Stat(t.Context(), missing); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a 404: %v", err)
	}
	if _, err := d.Writer(t.Context(), "x"); !errors.Is(err, blob.ErrReadOnly) {
		t.Errorf("Writer: %v", err)
	}
	if n := others.Load(); n != 0 {
		t.Errorf("%d requests that were not reads", n)
	}
	if !blob.IsReadOnly(d) || !blob.IsRemote(d) {
		t.Error("the store does not say it is read-only and remote")
	}
}

// TestKeyForRefusals: other schemes are not the store's; loopback without
// an allowed network, and over-long URLs, are the store's but refused.
func TestKeyForRefusals(t *testing.T) {
	d := httpstore.New(policy())
	if _, ok, _ := d.KeyFor("rbd://a/b/c/snap"); ok {
		t.Error("rbd:// taken")
	}
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://169.254.169.254/latest", "https://example.com/" + strings.Repeat("a", 300)} {
		if _, ok, err := d.KeyFor(u); !ok || err == nil {
			t.Errorf("KeyFor(%s): ok %v, err %v", u[:min(len(u), 40)], ok, err)
		}
	}
	if _, err := d.Reader(t.Context(), httpstore.Key("http://127.0.0.1:1/x"), 0); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Reader of a refused address: %v", err)
	}
}
