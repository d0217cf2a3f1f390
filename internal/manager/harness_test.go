package manager

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/imagecli"
	"github.com/glint-image/glint/internal/imageclient"
	"github.com/glint-image/glint/internal/servertest"
)

// The end-to-end harness: a real glint (SQLite, files, built-in
// identity) served on loopback, a loopback HTTP server playing the
// upstream mirrors with generated qcow2 files and checksum files, and
// the five sample definitions rewritten to point at it.

// glint is a running glint and the environment of a client of it.
type glint struct {
	t    *testing.T
	url  string
	env  map[string]string
	sess *imagecli.Session
}

func startGlint(t *testing.T, tweaks ...func(*config.Config)) *glint {
	t.Helper()
	c := servertest.StartCloud(t, tweaks...)
	return &glint{t: t, url: c.URL, env: map[string]string{"OS_CLIENT_CONFIG_FILE": c.Clouds, "HOME": c.Dir}}
}

// run is one `glint manage` run against g.
type run struct {
	stdout, stderr string
	err            error
}

func (g *glint) manage(args ...string) run {
	g.t.Helper()
	var out, errw bytes.Buffer
	r := &runner{out: &out, errw: &errw, getenv: func(k string) string { return g.env[k] }, now: time.Now}
	cmd := newCommand(r)
	cmd.SetArgs(append([]string{"--cloud", "glint", "--stuck-after", "5s"}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	err := cmd.ExecuteContext(g.t.Context())
	return run{stdout: out.String(), stderr: errw.String(), err: err}
}

// ok runs glint manage and fails the test unless it succeeded.
func (g *glint) ok(args ...string) run {
	g.t.Helper()
	r := g.manage(args...)
	if r.err != nil {
		g.t.Fatalf("glint manage %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r
}

// report runs glint manage with --output json and decodes the report.
func (g *glint) report(args ...string) (Report, run) {
	g.t.Helper()
	r := g.manage(append(args, "--output", "json")...)
	var rep Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		g.t.Fatalf("--output json: %v\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return rep, r
}

// session is an admin connection for looking at the cloud directly.
func (g *glint) session() *imagecli.Session {
	g.t.Helper()
	if g.sess != nil {
		return g.sess
	}
	env := map[string]string{"OS_CLOUD": "glint"}
	for k, v := range g.env {
		env[k] = v
	}
	s, err := imagecli.Connect(g.t.Context(), imagecli.ConnectOptions{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		g.t.Fatal(err)
	}
	g.sess = s
	return s
}

// images is every image of the cloud by name, as the API shows it.
func (g *glint) images() map[string]map[string]any {
	g.t.Helper()
	s := g.session()
	out := map[string]map[string]any{}
	for _, q := range []string{"", "&os_hidden=true"} {
		var body struct {
			Images []map[string]any `json:"images"`
		}
		if _, err := s.Image.Get(g.t.Context(), s.Image.ServiceURL("images")+"?limit=1000"+q, &body, nil); err != nil {
			g.t.Fatal(err)
		}
		for _, img := range body.Images {
			name := img["name"].(string)
			if prev, dup := out[name]; dup && prev["id"] != img["id"] {
				g.t.Fatalf("two images called %q", name)
			}
			out[name] = img
		}
	}
	return out
}

// upstream is a loopback web server with image and checksum files.
type upstream struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	gets  map[string]int
	// modified is the Last-Modified of every file.
	modified time.Time
	// failFirst makes the first GET of every file fail with 503.
	failFirst bool
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{t: t, files: map[string][]byte{}, gets: map[string]int{},
		modified: time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC)}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	data, ok := u.files[r.URL.Path]
	if r.Method == "GET" {
		u.gets[r.URL.Path]++
	}
	modified, fail := u.modified, u.failFirst && u.gets[r.URL.Path] == 1 && r.Method == "GET"
	u.mu.Unlock()
	if fail {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, path.Base(r.URL.Path), modified, bytes.NewReader(data))
}

func (u *upstream) put(p string, data []byte) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[p] = data
	return u.srv.URL + p
}

// port is the upstream server's port, for allowing it in glint's
// web-download filter.
func (u *upstream) port() int {
	return u.srv.Listener.Addr().(*net.TCPAddr).Port
}

func (u *upstream) fetched(p string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gets[p]
}

// digest is "<algo>:<hex>" of data.
func digest(algo string, data []byte) string {
	switch algo {
	case "sha512":
		s := sha512.Sum512(data)
		return "sha512:" + hex.EncodeToString(s[:])
	}
	s := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(s[:])
}

// samplesAt copies the five sample definition files into a directory,
// with every version's url and mirror_url moved to the upstream server
// (which gets a generated image for each) and its checksum made true.
// Each version's file is at /<definition>/<version>/<original name>.
func samplesAt(t *testing.T, u *upstream) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "schema.yaml" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(samples, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, img := range lookup(doc.Content[0], "images").Content {
			name := text(img, "name")
			for _, v := range lookup(img, "versions").Content {
				u.pointAt(v, name, text(v, "version"))
			}
		}
		out, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pointAt rewrites one version node to a generated file of its own.
func (u *upstream) pointAt(v *yaml.Node, name, version string) []byte {
	orig := text(v, "url")
	data := qcow2Image(name + " " + version)
	p := "/" + strings.ReplaceAll(name, " ", "_") + "/" + version + "/" + path.Base(orig)
	url := u.put(p, data)
	setText(v, "url", url)
	if lookup(v, "mirror_url") != nil {
		setText(v, "mirror_url", u.put("/mirror"+p, data))
	}
	algo := "sha256"
	if strings.HasPrefix(text(v, "checksum"), "sha512:") {
		algo = "sha512"
	}
	if lookup(v, "checksum") != nil {
		setText(v, "checksum", digest(algo, data))
	}
	return data
}

func setText(n *yaml.Node, key, value string) {
	if val := lookup(n, key); val != nil {
		val.Value, val.Tag = value, "!!str"
		return
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Value: value, Style: yaml.SingleQuotedStyle})
}

// editFile changes a definition file of dir through its YAML tree.
func editFile(t *testing.T, file string, edit func(images *yaml.Node)) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	edit(lookup(doc.Content[0], "images"))
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// definitionNode is the node of the definition called name.
func definitionNode(t *testing.T, images *yaml.Node, name string) *yaml.Node {
	t.Helper()
	for _, img := range images.Content {
		if text(img, "name") == name {
			return img
		}
	}
	t.Fatalf("no definition %q", name)
	return nil
}

func props(img map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range img {
		// os_glance_* are the server's own (import bookkeeping).
		if s, ok := v.(string); ok && !isCore(k) && !strings.HasPrefix(k, "os_glance_") {
			out[k] = s
		}
	}
	return out
}

func isCore(k string) bool { return imageclient.IsCore(k) }

func writeFile(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
