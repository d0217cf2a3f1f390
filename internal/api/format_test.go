package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// qemuImage makes an image with the real qemu-img (Debian's qemu-utils,
// installed by .ci/run) and returns its bytes.
func qemuImage(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Fatalf("qemu-img is needed for this test (.ci/deps installs it, as README's test command does): %v", err)
	}
	path := filepath.Join(dir, name)
	full := append(append([]string{"create", "-q"}, args[:len(args)-1]...), path, args[len(args)-1])
	if out, err := exec.Command(qemu, full...).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img %v: %v\n%s", full, err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createImage creates an image as the owner and returns its id.
func (e *env) createImage(t testing.TB, body string) string {
	t.Helper()
	resp, out := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"}, body)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}
	var img struct{ ID string }
	json.Unmarshal([]byte(out), &img)
	return img.ID
}

func (e *env) imageJSON(t testing.TB, id string) map[string]any {
	t.Helper()
	resp, out := e.do("owner", "GET", "/v2/images/"+id, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("show %s: %d %s", id, resp.StatusCode, out)
	}
	var m map[string]any
	json.Unmarshal([]byte(out), &m)
	return m
}

// TestUploadFormatInspection: plain uploads go through the format
// inspector. Good images get their virtual size; crafted and mislabelled
// ones are refused with 415 and the reason, leave no data behind, and the
// image stays queued for a proper upload.
func TestUploadFormatInspection(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	qcow2 := qemuImage(t, dir, "ok.qcow2", "-f", "qcow2", "1G")
	base := filepath.Join(dir, "base.raw")
	os.WriteFile(base, make([]byte, 1<<20), 0o600)
	cases := []struct {
		name, disk string
		data       []byte
		reason     string
	}{
		{"backing file", "qcow2", qemuImage(t, dir, "b.qcow2", "-f", "qcow2", "-b", base, "-F", "raw", "1G"),
			"Image failed safety checks: the qcow2 image has a backing file"},
		{"data file", "qcow2", qemuImage(t, dir, "d.qcow2", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "x.raw"), "1G"),
			"Image failed safety checks: the qcow2 image uses an external data file"},
		{"vmdk descriptor", "vmdk", qemuImage(t, dir, "f.vmdk", "-f", "vmdk", "-o", "subformat=monolithicFlat", "1M"),
			`the VMDK descriptor names the external file \"f-flat.vmdk\"`},
		{"qcow2 declared raw", "raw", qcow2, "Image disk_format raw does not match stream data qcow2"},
		{"raw declared qcow2", "qcow2", make([]byte, 4096), "Image disk_format qcow2 does not match stream data raw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := e.createImage(t, `{"name":"x","disk_format":"`+c.disk+`","container_format":"bare"}`)
			resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file",
				map[string]string{"Content-Type": "application/octet-stream", "Accept": "application/json"}, string(c.data))
			if resp.StatusCode != 415 {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			var msg struct{ Message, Code string }
			json.Unmarshal([]byte(body), &msg)
			// The reason first, and no sentence blaming the media type.
			if !strings.Contains(body, c.reason) || strings.Contains(msg.Message, "media type") ||
				!strings.HasPrefix(msg.Message, "Image ") || msg.Code != "415 Unsupported Media Type" {
				t.Fatalf("refusal body %s, want the reason %q", body, c.reason)
			}
			img := e.imageJSON(t, id)
			if img["status"] != "queued" || img["size"] != nil || img["checksum"] != nil || img["virtual_size"] != nil {
				t.Fatalf("after refusal: %v", img)
			}
			if resp, _ := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 204 {
				t.Fatalf("download after refusal: %d", resp.StatusCode)
			}
			if n := e.blobCount(t); n != 0 {
				t.Fatalf("%d blobs left after a refused upload", n)
			}
			e.assertNoPartialData(t)
		})
	}

	// The same image accepts a proper upload afterwards, with the virtual
	// size the qcow2 header declares.
	id := e.createImage(t, `{"name":"ok","disk_format":"qcow2","container_format":"bare"}`)
	resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(qcow2))
	if resp.StatusCode != 204 {
		t.Fatalf("good qcow2: %d %s", resp.StatusCode, body)
	}
	if img := e.imageJSON(t, id); img["status"] != "active" || img["virtual_size"] != float64(1<<30) || img["size"] != float64(len(qcow2)) {
		t.Fatalf("good qcow2 recorded as %v", img)
	}

	// Another container format than bare: only the safety checks apply.
	id = e.createImage(t, `{"name":"ova","disk_format":"raw","container_format":"ova"}`)
	resp, _ = e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(qcow2))
	if resp.StatusCode != 204 {
		t.Fatalf("qcow2 in an ova container: %d", resp.StatusCode)
	}
}
