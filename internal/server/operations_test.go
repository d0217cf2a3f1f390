package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// opsServer starts glint with trusted-headers auth and a metrics listener
// configured; it returns the API's and the metrics listener's URLs.
func opsServer(t *testing.T, edit func(*config.Config)) (api, ops string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthTrustedHeaders
	cfg.MetricsListen = "127.0.0.1:9393" // served below through MetricsHandler
	cfg.Quotas = map[string]int64{"image_count_total": 2}
	if edit != nil {
		edit(&cfg)
	}
	a := servertest.Start(t, cfg)
	m := httptest.NewServer(a.Glint.MetricsHandler())
	t.Cleanup(m.Close)
	return a.URL, m.URL
}

func call(t *testing.T, method, url, project string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if project != "" {
		req.Header.Set("X-Project-Id", project)
		req.Header.Set("X-User-Id", "u-"+project)
		req.Header.Set("X-Roles", "member")
		if project == "admin-project" {
			req.Header.Set("X-Roles", "admin,member")
		}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func scrape(t *testing.T, ops string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := call(t, "GET", ops+"/metrics", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return fams
}

// value sums the samples of a family whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	var sum float64
	for _, m := range f.Metric {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

var storeMethod = regexp.MustCompile(`^[A-Z][A-Za-z]+$`)

// TestMetricsMove drives traffic through the API and checks that a scrape
// parses with Prometheus's own text parser and that the families move:
// requests by route pattern, transfers and store operations by store,
// quota refusals, database transactions and pools, catalog counts, the Go
// and process collectors. No label carries an id.
func TestMetricsMove(t *testing.T) {
	api, ops := opsServer(t, nil)
	resp, body := call(t, "POST", api+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"name":"m1","disk_format":"raw","container_format":"bare"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		t.Fatalf("create: %v %s", err, body)
	}
	id := created.ID
	data := bytes.Repeat([]byte("x"), 3<<20)
	if resp, b := call(t, "PUT", api+"/v2/images/"+id+"/file", "p1", map[string]string{"Content-Type": "application/octet-stream"}, data); resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	for range 2 {
		if resp, b := call(t, "GET", api+"/v2/images/"+id+"/file", "p1", nil, nil); resp.StatusCode != 200 || len(b) != len(data) {
			t.Fatalf("download: %d %d bytes", resp.StatusCode, len(b))
		}
	}
	call(t, "GET", api+"/v2/images/"+id, "p1", nil, nil)
	call(t, "GET", api+"/v2/images", "p1", nil, nil)
	call(t, "POST", api+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"}, []byte(`{"name":"m2"}`))
	if resp, b := call(t, "POST", api+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"}, []byte(`{"name":"m3"}`)); resp.StatusCode != 413 {
		t.Fatalf("third image over image_count_total=2: %d %s", resp.StatusCode, b)
	}

	after := scrape(t, ops)
	checks := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"glint_http_requests_total", map[string]string{"route": "/v2/images", "method": "POST", "status": "201"}, 2},
		{"glint_http_requests_total", map[string]string{"route": "/v2/images/{id}/file", "method": "GET", "status": "200"}, 2},
		{"glint_http_requests_total", map[string]string{"route": "/v2/images", "method": "POST", "status": "413"}, 1},
		{"glint_http_request_duration_seconds", map[string]string{"route": "/v2/images/{id}", "method": "GET"}, 1},
		{"glint_image_transfer_bytes_total", map[string]string{"direction": "upload", "store": "default"}, float64(len(data))},
		{"glint_image_transfer_bytes_total", map[string]string{"direction": "download", "store": "default"}, float64(2 * len(data))},
		{"glint_image_transfer_duration_seconds", map[string]string{"direction": "download", "store": "default"}, 2},
		{"glint_store_operation_duration_seconds", map[string]string{"store": "default", "op": "commit"}, 1},
		{"glint_quota_refusals_total", map[string]string{"quota": "image_count_total"}, 1},
		{"glint_db_transaction_duration_seconds", map[string]string{"kind": "write", "outcome": "ok"}, 3},
		{"glint_db_query_duration_seconds", map[string]string{"op": "CreateImage"}, 2},
		// The file store shares identical uploads: the upload ends in FinishShared.
		{"glint_db_query_duration_seconds", map[string]string{"op": "FinishShared"}, 1},
		{"glint_db_query_duration_seconds", map[string]string{"op": "ListImages"}, 1},
		{"glint_db_query_duration_seconds", map[string]string{"op": "GetImage"}, 1},
		{"go_sql_open_connections", map[string]string{"db_name": "writer"}, 1},
		{"glint_images", map[string]string{"status": "active", "visibility": "shared"}, 1},
		{"glint_images", map[string]string{"status": "queued"}, 1},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	}
	for _, c := range checks {
		if v := value(after, c.name, c.labels); v < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, v, c.min)
		}
	}
	// The query operations are store methods, nothing else.
	for _, m := range after["glint_db_query_duration_seconds"].GetMetric() {
		for _, l := range m.Label {
			if op := l.GetValue(); l.GetName() != "op" || !storeMethod.MatchString(op) {
				t.Errorf("glint_db_query_duration_seconds label %s=%q", l.GetName(), op)
			}
		}
	}
	if v := value(after, "glint_http_requests_in_flight", nil); v != 0 {
		t.Errorf("in flight after the requests: %v", v)
	}
	for name, f := range after {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), id) || strings.Contains(l.GetValue(), "p1") {
					t.Errorf("%s has an unbounded label %s=%s", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestHealthcheck checks /healthcheck as oslo.middleware answers it in
// Glance's pipeline, draining with disable_by_file_path, and the detailed
// check for admins and on the metrics listener.
func TestHealthcheck(t *testing.T) {
	drain := filepath.Join(t.TempDir(), "healthcheck_disable")
	api, ops := opsServer(t, func(c *config.Config) { c.DisableByFilePath = drain })
	expect := func(method, url string, hdr map[string]string, status int, ctype, body string) {
		t.Helper()
		resp, b := call(t, method, url, "", hdr, nil)
		if resp.StatusCode != status || (ctype != "" && resp.Header.Get("Content-Type") != ctype) || string(b) != body {
			t.Errorf("%s %s %v: %d %q %q, want %d %q %q", method, url, hdr, resp.StatusCode, resp.Header.Get("Content-Type"), b, status, ctype, body)
		}
	}
	for _, base := range []string{api, ops} {
		expect("GET", base+"/healthcheck", nil, 200, "text/plain; charset=UTF-8", "OK")
		expect("GET", base+"/healthcheck?x=1", nil, 200, "text/plain; charset=UTF-8", "OK")
		expect("GET", base+"/healthcheck", map[string]string{"Accept": "application/json"}, 200, "application/json",
			"{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}")
		expect("HEAD", base+"/healthcheck", nil, 204, "", "")
	}
	expect("POST", api+"/healthcheck", nil, 200, "text/plain; charset=UTF-8", "OK")
	if resp, _ := call(t, "GET", api+"/healthcheck/", "", nil, nil); resp.StatusCode != 300 {
		t.Errorf("/healthcheck/ is the API's (versions, 300), got %d", resp.StatusCode)
	}

	if err := os.WriteFile(drain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	expect("GET", api+"/healthcheck", nil, 503, "text/plain; charset=UTF-8", "DISABLED BY FILE")
	expect("GET", api+"/healthcheck", map[string]string{"Accept": "application/json"}, 503, "application/json",
		"{\n    \"detailed\": false,\n    \"reasons\": [\n        \"DISABLED BY FILE\"\n    ]\n}")
	expect("HEAD", api+"/healthcheck", nil, 503, "text/plain; charset=UTF-8", "")
	resp, b := call(t, "GET", api+"/healthcheck", "", map[string]string{"Accept": "text/html"}, nil)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "<TD>DISABLED BY FILE</TD>") {
		t.Errorf("html while drained: %d %s", resp.StatusCode, b)
	}
	// The API itself still serves while drained: the balancer moves new
	// clients away, requests in progress finish.
	if resp, _ := call(t, "GET", api+"/v2/images", "p1", nil, nil); resp.StatusCode != 200 {
		t.Errorf("the API while drained: %d", resp.StatusCode)
	}
	os.Remove(drain)
	expect("GET", api+"/healthcheck", nil, 200, "text/plain; charset=UTF-8", "OK")

	// Detailed: admins on the API port, anyone on the metrics listener.
	resp, b = call(t, "GET", api+"/healthcheck/detail", "admin-project", map[string]string{"Accept": "application/json"}, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"class": "database"`) || !strings.Contains(string(b), `"class": "store default"`) {
		t.Errorf("detailed for an admin: %d %s", resp.StatusCode, b)
	}
	if resp, b := call(t, "GET", api+"/healthcheck/detail", "p1", map[string]string{"Accept": "application/json"}, nil); resp.StatusCode == 200 && strings.Contains(string(b), "database") {
		t.Errorf("detailed shown to a member: %s", b)
	}
	resp, b = call(t, "GET", ops+"/healthcheck/detail", "", map[string]string{"Accept": "application/json"}, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"detailed": true`) {
		t.Errorf("detailed on the metrics listener: %d %s", resp.StatusCode, b)
	}
}
