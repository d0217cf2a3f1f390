package api_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/imageclient"
	"github.com/glint-image/glint/internal/servertest"
)

// TestResumeProtocol walks the Content-Range continuation over HTTP: a
// cut upload, the progress query, a resume at the wrong offset, someone
// else's resume, malformed ranges, and the resume that completes it.
func TestResumeProtocol(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "resume", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	wantStatus(t, err, 0)
	data := randomBytes(300000, 1)
	path := "/v2/images/" + img.ID + "/file"
	cutUpload(t, e, path, data, 100000)

	query := map[string]string{"Content-Range": "bytes */300000"}
	resp, _ := e.do("owner", "PUT", path, query, "")
	if resp.StatusCode != 308 || resp.Header.Get("Upload-Offset") != "100000" || resp.Header.Get("Range") != "bytes=0-99999" ||
		resp.Header.Get("Upload-Expires") == "" || resp.Header.Get("Location") != "" {
		t.Fatalf("progress query: %d %v", resp.StatusCode, resp.Header)
	}
	// Glance's own clients see the image as after any failed upload.
	after, err := images.Get(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	if after.Status != images.ImageStatusQueued || after.SizeBytes != 0 || after.Checksum != "" {
		t.Fatalf("image with a partial upload: %+v", after)
	}
	octet := func(rng string) map[string]string {
		return map[string]string{"Content-Type": "application/octet-stream", "Content-Range": rng, "Accept": "application/json"}
	}
	resp, body := e.do("owner", "PUT", path, octet("bytes 5-299999/300000"), string(data[5:]))
	if resp.StatusCode != 409 || resp.Header.Get("Upload-Offset") != "100000" || !strings.Contains(body, "must start at byte 100000") {
		t.Fatalf("resume at a wrong offset: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	for _, who := range []string{"other", ""} {
		resp, _ = e.do(who, "PUT", path, query, "")
		want := 404
		if who == "" {
			want = 401
		}
		if resp.StatusCode != want {
			t.Fatalf("%q's progress query: %d, want %d", who, resp.StatusCode, want)
		}
		resp, _ = e.do(who, "PUT", path, octet("bytes 100000-299999/300000"), string(data[100000:]))
		if resp.StatusCode != want {
			t.Fatalf("%q's resume: %d, want %d", who, resp.StatusCode, want)
		}
	}
	for _, rng := range []string{"bytes 100000-99/300000", "bytes 100000-299999/200000", "items 1-2/3", "bytes 100000-299999"} {
		resp, _ = e.do("owner", "PUT", path, octet(rng), string(data[100000:]))
		if resp.StatusCode != 400 {
			t.Fatalf("Content-Range %q: %d, want 400", rng, resp.StatusCode)
		}
	}
	// A chunk in the middle: 308 and the new offset.
	resp, _ = e.do("owner", "PUT", path, octet("bytes 100000-199999/300000"), string(data[100000:200000]))
	if resp.StatusCode != 308 || resp.Header.Get("Upload-Offset") != "200000" {
		t.Fatalf("middle chunk: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = e.do("owner", "PUT", path, octet("bytes 200000-299999/300000"), string(data[200000:]))
	if resp.StatusCode != 204 {
		t.Fatalf("last chunk: %d %s", resp.StatusCode, body)
	}
	checkImage(t, e, img.ID, data)
	resp, _ = e.do("owner", "PUT", path, query, "")
	if resp.StatusCode != 204 || resp.Header.Get("Upload-Offset") != "300000" {
		t.Fatalf("progress query of a complete image: %d %v", resp.StatusCode, resp.Header)
	}
	e.assertNoPartialData(t)
}

// cutUpload starts a plain PUT of data and hangs up after n bytes, then
// waits for the image to be queued again.
func cutUpload(t *testing.T, e *env, path string, data []byte, n int) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req := "PUT " + path + " HTTP/1.1\r\nHost: x\r\nX-Project-Id: proj-a\r\nX-Roles: member\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: " + strconv.Itoa(len(data)) + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), data[:n]...)); err != nil {
		t.Fatal(err)
	}
	id := strings.Split(path, "/")[3]
	waitFor(t, func() bool {
		img, err := images.Get(ctx, e.owner, id).Extract()
		return err == nil && img.Status != images.ImageStatusQueued
	})
	conn.Close()
	waitFor(t, func() bool {
		resp, _ := e.do("owner", "PUT", path, map[string]string{"Content-Range": "bytes */*"}, "")
		return resp.StatusCode == 308 && resp.Header.Get("Upload-Offset") == strconv.Itoa(n)
	})
}

func checkImage(t testing.TB, e *env, id string, data []byte) {
	t.Helper()
	img, err := images.Get(ctx, e.owner, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	md, sh := md5.Sum(data), sha512.Sum512(data)
	if img.Status != images.ImageStatusActive || img.SizeBytes != int64(len(data)) || img.Checksum != hex.EncodeToString(md[:]) ||
		img.Properties["os_hash_value"] != hex.EncodeToString(sh[:]) {
		t.Fatalf("image after the resumed upload: status %s size %d checksum %s", img.Status, img.SizeBytes, img.Checksum)
	}
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = seed
	rand.NewChaCha8(s).Read(b)
	return b
}

// TestResumeKilledConnections is the target: the client's
// connection is killed at five random points of an upload, and
// imageclient.Upload finishes it with the right checksums having sent at
// most 1.1 times the image. It runs on files and, in the PostgreSQL+S3
// run of this suite, on S3.
func TestResumeKilledConnections(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 12 << 20
	}
	for _, target := range []string{"file", "stage"} {
		t.Run(target, func(t *testing.T) {
			e := newEnvConfig(t, func(c *config.Config) {
				c.SizeCap = 1 << 40
				c.Import.Methods = []string{"glance-direct"}
			})
			killedUpload(t, e, target, size)
		})
	}
}

// killedUpload uploads (or stages) size random bytes to a new image of e
// through connections killed five times, and checks the result.
func killedUpload(t testing.TB, e *env, target string, size int) {
	sent := sendKilled(t, e, target, size, 5)
	if ratio := float64(sent) / float64(size); ratio > 1.1 {
		t.Fatalf("sent %d bytes for a %d-byte image: %.3f×, want ≤ 1.1×", sent, size, ratio)
	} else {
		t.Logf("sent %.3f× the image's %d bytes over 5 killed connections", ratio, size)
	}
}

// sendKilled uploads (or stages) size random bytes to a new image through
// connections killed kills times, checks the image, and returns the bytes
// sent.
func sendKilled(t testing.TB, e *env, target string, size, kills int) int64 {
	t.Helper()

	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "killed", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(size, 2)
	k := &killer{left: kills, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), max: int64(size/6 - 256<<10)} // five kills always fit in the image
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: headerTransport{
		// A connection per request, so each data PUT gets a budget.
		base: &http.Transport{DialContext: k.dial, DisableKeepAlives: true},
		hdr:  http.Header{"X-Project-Id": {"proj-a"}, "X-User-Id": {"user-a"}, "X-Roles": {"member"}},
	}}}
	c := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: e.url + "/", ResourceBase: e.url + "/v2/", Type: "image"}
	up := &imageclient.Upload{Client: c, URL: c.ServiceURL("images", img.ID, target), Source: bytes.NewReader(data),
		Size: int64(size), Backoff: 20 * time.Millisecond, MaxBackoff: time.Second, Retries: 12}
	if err := up.Run(ctx); err != nil {
		t.Fatalf("upload with killed connections: %v (kills left %d, sent %d)", err, k.left, up.Sent)
	}
	if k.killed() != kills {
		t.Fatalf("%d connections killed, want %d", k.killed(), kills)
	}
	if target == "file" {
		checkImage(t, e, img.ID, data)
	} else {
		after, err := images.Get(ctx, e.owner, img.ID).Extract()
		if err != nil || after.Status != "uploading" || after.SizeBytes != int64(size) {
			t.Fatalf("after the resumed stage: %v, %v", after, err)
		}
	}
	e.assertNoPartialData(t)
	return up.Sent
}

// killer hands out connections that it cuts after a random number of
// bytes written, left times.
type killer struct {
	mu   sync.Mutex
	left int
	done int
	rnd  *rand.Rand
	max  int64
}

func (k *killer) killed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.done
}

func (k *killer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.left == 0 {
		return conn, nil
	}
	// Past the headers of a progress query, so only data PUTs are cut.
	budget := 256<<10 + k.rnd.Int64N(k.max)
	return &cutConn{Conn: conn, budget: budget, k: k}, nil
}

// kill takes one of the kills left, if any.
func (k *killer) kill() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.left == 0 {
		return false
	}
	k.left--
	k.done++
	return true
}

// cutConn closes itself once budget bytes were written through it.
type cutConn struct {
	net.Conn
	budget int64
	k      *killer
	cut    bool
}

var errKilled = errors.New("connection killed by the test")

func (c *cutConn) Write(p []byte) (int, error) {
	if c.cut {
		return 0, errKilled
	}
	if int64(len(p)) < c.budget || c.budget < 0 {
		c.budget -= int64(len(p))
		return c.Conn.Write(p)
	}
	if !c.k.kill() {
		c.budget = -1 // no kills left: an ordinary connection
		return c.Conn.Write(p)
	}
	n, _ := c.Conn.Write(p[:c.budget])
	c.cut = true
	c.Conn.Close()
	return n, errKilled
}

// BenchmarkResumedUpload: one image (256 MiB, or GLINT_BENCH_RESUME_MIB)
// uploaded through imageclient.Upload in one go and through five killed
// connections, on this run's backend. The ratio of the two rates is the
// cost of the interruptions (the pauses before each resume are 20 ms);
// sent/size is the data sent again.
func BenchmarkResumedUpload(b *testing.B) {
	size := 256 << 20
	if v, err := strconv.Atoi(os.Getenv("GLINT_BENCH_RESUME_MIB")); err == nil && v > 0 {
		size = v << 20
	}
	e := newEnvConfig(b, func(c *config.Config) { c.SizeCap = 1 << 40 })
	for _, kills := range []int{0, 5} {
		b.Run(strconv.Itoa(kills)+"-kills", func(b *testing.B) {
			b.SetBytes(int64(size))
			var sent int64
			for b.Loop() {
				sent += sendKilled(b, e, "file", size, kills)
			}
			b.ReportMetric(float64(sent)/float64(size)/float64(b.N), "sent/size")
		})
	}
}

// TestResumeOnAnotherNode: an upload cut on one node continues on another
// that shares its database and store (PostgreSQL and S3: this suite's
// second run).
func TestResumeOnAnotherNode(t *testing.T) {
	e := newEnv(t)
	if e.cfg.Metadata.Driver != "postgres" {
		t.Skip("needs a database nodes share: runs in the PostgreSQL+S3 run of this suite")
	}
	ts := servertest.Start(t, e.cfg)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "two-nodes", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	wantStatus(t, err, 0)
	data := randomBytes(20<<20+5, 3)
	path := "/v2/images/" + img.ID + "/file"
	cutUpload(t, e, path, data, 7<<20+1)
	// The second node answers from the shared records.
	node2 := &env{t: t, url: ts.URL}
	resp, _ := node2.do("owner", "PUT", path, map[string]string{"Content-Range": "bytes */*"}, "")
	kept, _ := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if resp.StatusCode != 308 || kept != 7<<20+1 {
		t.Fatalf("the other node's progress: %d, Upload-Offset %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
	rng := "bytes " + strconv.Itoa(kept) + "-" + strconv.Itoa(len(data)-1) + "/" + strconv.Itoa(len(data))
	resp, body := node2.do("owner", "PUT", path, map[string]string{"Content-Type": "application/octet-stream", "Content-Range": rng},
		string(data[kept:]))
	if resp.StatusCode != 204 {
		t.Fatalf("resume on the other node: %d %s", resp.StatusCode, body)
	}
	checkImage(t, e, img.ID, data)
	e.assertNoPartialData(t)
}
