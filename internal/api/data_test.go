package api_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/config"
)

// uploaded creates an image owned by proj-a and uploads data to it.
func (e *env) uploaded(t *testing.T, data []byte) string {
	t.Helper()
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "d", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	wantStatus(t, err, 0)
	wantStatus(t, imagedata.Upload(ctx, e.owner, img.ID, bytes.NewReader(data)).ExtractErr(), 0)
	return img.ID
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestUploadDownload(t *testing.T) {
	e := newEnv(t)
	data := pattern(3<<20 + 17)
	id := e.uploaded(t, data)

	img, err := images.Get(ctx, e.owner, id).Extract()
	wantStatus(t, err, 0)
	sum := md5.Sum(data)
	sha := sha512.Sum512(data)
	if img.Status != images.ImageStatusActive || img.SizeBytes != int64(len(data)) ||
		img.Checksum != hex.EncodeToString(sum[:]) || img.Properties["os_hash_algo"] != "sha512" ||
		img.Properties["os_hash_value"] != hex.EncodeToString(sha[:]) || img.VirtualSize != int64(len(data)) {
		t.Fatalf("after upload: %+v", img)
	}

	rd, err := imagedata.Download(ctx, e.owner, id).Extract()
	wantStatus(t, err, 0)
	got, _ := io.ReadAll(rd)
	rd.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
	}

	resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Md5") != img.Checksum ||
		resp.Header.Get("Content-Length") != itoa64(int64(len(data))) || resp.Header.Get("Content-Type") != "application/octet-stream" || body != string(data) {
		t.Fatalf("download headers: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestDownloadRanges(t *testing.T) {
	e := newEnv(t)
	data := pattern(1000)
	id := e.uploaded(t, data)
	cases := []struct {
		rng, contentRange string
		status            int
		want              []byte
	}{
		{"bytes=0-9", "bytes 0-9/1000", 206, data[0:10]},
		{"bytes=990-", "bytes 990-999/1000", 206, data[990:]},
		{"bytes=-5", "bytes 995-999/1000", 206, data[995:]},
		{"bytes=995-5000", "bytes 995-999/1000", 206, data[995:]},
		{"bytes=2000-2010", "", 416, nil},
		{"bytes=9-1", "", 416, nil},
		{"items=0-1", "", 416, nil},
		{"bytes=0-1,5-6", "", 416, nil},
	}
	for _, c := range cases {
		resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", map[string]string{"Range": c.rng}, "")
		if resp.StatusCode != c.status {
			t.Fatalf("%s: status %d, want %d", c.rng, resp.StatusCode, c.status)
		}
		if c.status == 206 && (resp.Header.Get("Content-Range") != c.contentRange || body != string(c.want) ||
			resp.Header.Get("Content-Length") != itoa64(int64(len(c.want)))) {
			t.Fatalf("%s: Content-Range %q, %d bytes", c.rng, resp.Header.Get("Content-Range"), len(body))
		}
	}
}

func TestDataRefusals(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "q"}).Extract()
	wantStatus(t, err, 0)

	// No data yet: 204. Formats unset: upload refused, image stays queued.
	resp, _ := e.do("owner", "GET", "/v2/images/"+img.ID+"/file", nil, "")
	if resp.StatusCode != 204 {
		t.Fatalf("download without data: %d", resp.StatusCode)
	}
	wantStatus(t, imagedata.Upload(ctx, e.owner, img.ID, strings.NewReader("x")).ExtractErr(), 400)

	_, err = images.Update(ctx, e.owner, img.ID, images.UpdateOpts{
		images.UpdateImageProperty{Op: images.ReplaceOp, Name: "disk_format", Value: "raw"},
		images.UpdateImageProperty{Op: images.ReplaceOp, Name: "container_format", Value: "bare"},
	}).Extract()
	wantStatus(t, err, 0)

	octet := map[string]string{"Content-Type": "application/octet-stream", "Accept": "application/json"}
	resp, body := e.do("owner", "PUT", "/v2/images/"+img.ID+"/file", map[string]string{"Content-Type": "text/plain", "Accept": "application/json"}, "x")
	if resp.StatusCode != 415 || !strings.Contains(body, "The request media type text/plain is not supported by this server.") {
		t.Fatalf("wrong content type: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do("other", "PUT", "/v2/images/"+img.ID+"/file", octet, "x")
	if resp.StatusCode != 404 {
		t.Fatalf("stranger upload: %d", resp.StatusCode)
	}
	// Declared size that disagrees with the data.
	resp, body = e.do("owner", "PUT", "/v2/images/"+img.ID+"/file",
		map[string]string{"Content-Type": "application/octet-stream", "X-Openstack-Image-Size": "5"}, "abc")
	if resp.StatusCode != 400 {
		t.Fatalf("size mismatch: %d %s", resp.StatusCode, body)
	}
	// Over the size cap (64 MiB in tests): 413, and the image is still queued.
	big := io.LimitReader(zeroReader{}, 65<<20)
	err = imagedata.Upload(ctx, e.owner, img.ID, big).ExtractErr()
	wantStatus(t, err, 413)
	after, err := images.Get(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	if after.Status != images.ImageStatusQueued || after.SizeBytes != 0 || after.Checksum != "" {
		t.Fatalf("after refused upload: %+v", after)
	}
	e.assertNoPartialData(t)

	// Now a good upload; a second one is a conflict with Glance's words.
	wantStatus(t, imagedata.Upload(ctx, e.owner, img.ID, strings.NewReader("hello")).ExtractErr(), 0)
	resp, body = e.do("owner", "PUT", "/v2/images/"+img.ID+"/file", octet, "x")
	if resp.StatusCode != 409 || !strings.Contains(body, "Image status transition from active to saving is not allowed") {
		t.Fatalf("second upload: %d %s", resp.StatusCode, body)
	}
}

func TestDeactivateReactivate(t *testing.T) {
	e := newEnv(t)
	id := e.uploaded(t, []byte("secret"))
	e.share(t, id, "proj-b", "accepted")
	post := func(who, action string) int {
		resp, _ := e.do(who, "POST", "/v2/images/"+id+"/actions/"+action, nil, "")
		return resp.StatusCode
	}
	if s := post("other", "deactivate"); s != 403 {
		t.Fatalf("member deactivates: %d", s)
	}
	if s := post("owner", "deactivate"); s != 204 {
		t.Fatalf("owner deactivates: %d", s)
	}
	if s := post("owner", "deactivate"); s != 204 {
		t.Fatalf("deactivate twice: %d", s)
	}
	resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 403 || !strings.Contains(body, "The requested image has been deactivated. Image data download is forbidden.") {
		t.Fatalf("download deactivated: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("admin", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("admin download deactivated: %d", resp.StatusCode)
	}
	if s := post("admin", "reactivate"); s != 204 {
		t.Fatalf("admin reactivates: %d", s)
	}
	if resp, _ := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("download reactivated: %d", resp.StatusCode)
	}
	queued, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "q"}).Extract()
	wantStatus(t, err, 0)
	resp, body = e.do("owner", "POST", "/v2/images/"+queued.ID+"/actions/deactivate", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 403 || !strings.Contains(body, "Not allowed to deactivate image in status 'queued'") {
		t.Fatalf("deactivate queued: %d %s", resp.StatusCode, body)
	}
}

func TestDeleteImage(t *testing.T) {
	e := newEnv(t)
	id := e.uploaded(t, pattern(4096))
	if n := e.blobCount(t); n != 1 {
		t.Fatalf("%d blobs after upload", n)
	}
	_, err := images.Update(ctx, e.owner, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Extract()
	wantStatus(t, err, 0)
	resp, body := e.do("owner", "DELETE", "/v2/images/"+id, map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 403 || !strings.Contains(body, "is protected and cannot be deleted.") {
		t.Fatalf("delete protected: %d %s", resp.StatusCode, body)
	}
	_, err = images.Update(ctx, e.owner, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract()
	wantStatus(t, err, 0)
	wantStatus(t, images.Delete(ctx, e.other, id).ExtractErr(), 404)
	wantStatus(t, images.Delete(ctx, e.owner, id).ExtractErr(), 0)
	wantStatus(t, images.Delete(ctx, e.owner, id).ExtractErr(), 404)
	_, err = images.Get(ctx, e.owner, id).Extract()
	wantStatus(t, err, 404)
	// An admin still sees the deleted record, as in Glance.
	img, err := images.Get(ctx, e.admin, id).Extract()
	wantStatus(t, err, 0)
	if img.Status != images.ImageStatusDeleted {
		t.Fatalf("admin sees %q", img.Status)
	}
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs left after delete", n)
	}
}

func TestConcurrentUploadsOneWins(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "race", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	wantStatus(t, err, 0)
	const n = 6
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = imagedata.Upload(ctx, e.owner, img.ID, bytes.NewReader(pattern(1<<20+i))).ExtractErr()
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		if err == nil {
			wins++
		} else {
			wantStatus(t, err, 409)
		}
	}
	after, err := images.Get(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	if wins != 1 || after.Status != images.ImageStatusActive {
		t.Fatalf("%d uploads won, status %s", wins, after.Status)
	}
	rd, err := imagedata.Download(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	got, _ := io.ReadAll(rd)
	sum := md5.Sum(got)
	if hex.EncodeToString(sum[:]) != after.Checksum || int64(len(got)) != after.SizeBytes {
		t.Fatal("stored data does not match the recorded checksum and size")
	}
}

// TestTruncatedUpload sends fewer bytes than Content-Length and hangs up:
// the image must go back to queued with no image data, the bytes sent kept
// as a partial upload (resumable uploads), which a plain PUT discards.
func TestTruncatedUpload(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "cut", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	wantStatus(t, err, 0)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req := "PUT /v2/images/" + img.ID + "/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: proj-a\r\nX-Roles: member\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n" + strings.Repeat("a", 5000)
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		after, err := images.Get(ctx, e.owner, img.ID).Extract()
		return err == nil && after.Status == images.ImageStatusSaving
	})
	conn.Close()
	waitFor(t, func() bool {
		after, err := images.Get(ctx, e.owner, img.ID).Extract()
		return err == nil && after.Status == images.ImageStatusQueued
	})
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs after a cut upload", n)
	}
	resp, _ := e.do("owner", "PUT", "/v2/images/"+img.ID+"/file", map[string]string{"Content-Range": "bytes */1000000"}, "")
	if resp.StatusCode != 308 || resp.Header.Get("Upload-Offset") != "5000" {
		t.Fatalf("progress after a cut upload: %d, Upload-Offset %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
	wantStatus(t, imagedata.Upload(ctx, e.owner, img.ID, strings.NewReader("again")).ExtractErr(), 0)
	e.assertNoPartialData(t)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStalledUpload: an upload whose client stops sending is cut off
// after the idle timeout with 408 (it was a 400), and the image is back
// in queued with no data.
func TestStalledUpload(t *testing.T) {
	e := newEnvConfig(t, func(cfg *config.Config) { cfg.IdleTimeout = time.Second })
	id := e.createImage(t, `{"name":"s","disk_format":"raw","container_format":"bare"}`)
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: proj-a\r\nX-User-Id: user-a\r\nX-Roles: member\r\n"+
		"Accept: application/json\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n", id)
	c.Write(make([]byte, 10))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || !strings.Contains(string(body), "Upload stalled") {
		t.Fatalf("stalled upload: %d %s", resp.StatusCode, body)
	}
	if img := e.imageJSON(t, id); img["status"] != "queued" || img["size"] != nil {
		t.Fatalf("after a stalled upload: %v", img)
	}
}
