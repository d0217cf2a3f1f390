package dashboard_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
)

var rowIDs = regexp.MustCompile(`<tr id="row-([0-9a-f-]+)"`)

func rows(body string) []string {
	var ids []string
	for _, m := range rowIDs.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// link returns the href of the element with the rel attribute, unescaped.
func link(body, rel string) string {
	m := regexp.MustCompile(`<a href="([^"]+)"[^>]* rel="` + rel + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestListPagingAndFilters(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	var all []string
	for i := range 45 {
		f := map[string]any{"name": fmt.Sprintf("img-%02d", i), "disk_format": "qcow2", "container_format": "bare"}
		if i%10 == 0 {
			f["disk_format"] = "iso"
		}
		if i == 7 {
			f["image_type"] = "snapshot"
		}
		all = append(all, c.createImage(alice, f)["id"].(string))
	}
	b := c.browser()
	b.signIn("alice", "pw-alice")

	// Sorted by name, 20 a page, forward with markers and back again.
	p := b.get("/dashboard/project/images?sort=name&dir=asc")
	page1 := rows(p.body)
	if len(page1) != 20 || page1[0] != all[0] || page1[19] != all[19] || link(p.body, "prev") != "" {
		t.Fatalf("page 1: %d rows, prev %q", len(page1), link(p.body, "prev"))
	}
	next := link(p.body, "next")
	p = b.hx("GET", next, nil, "image-list")
	if !strings.HasPrefix(strings.TrimSpace(p.body), `<div id="image-list"`) {
		t.Fatalf("an htmx page request answers the whole page: %.200s", p.body)
	}
	page2 := rows(p.body)
	if !slices.Equal(page2, all[20:40]) {
		t.Fatalf("page 2: %v", page2)
	}
	p3 := b.get(link(p.body, "next"))
	if got := rows(p3.body); !slices.Equal(got, all[40:]) || link(p3.body, "next") != "" {
		t.Fatalf("page 3: %v, next %q", got, link(p3.body, "next"))
	}
	back := b.get(link(p3.body, "prev"))
	if got := rows(back.body); !slices.Equal(got, all[20:40]) {
		t.Fatalf("back to page 2: %v", got)
	}
	back = b.get(link(back.body, "prev"))
	if got := rows(back.body); !slices.Equal(got, all[:20]) || link(back.body, "prev") != "" {
		t.Fatalf("back to page 1: %v, prev %q", got, link(back.body, "prev"))
	}

	// Descending, 50 a page: all on one page.
	p = b.get("/dashboard/project/images?sort=name&dir=desc&limit=50")
	want := slices.Clone(all)
	slices.Reverse(want)
	if got := rows(p.body); !slices.Equal(got, want) || link(p.body, "next") != "" {
		t.Fatalf("descending: %d rows", len(got))
	}
	// Filters.
	for q, want := range map[string][]string{
		"name=img-07":                       {all[7]},
		"disk_format=iso&sort=name&dir=asc": {all[0], all[10], all[20], all[30], all[40]},
		"type=snapshot":                     {all[7]},
		"name=nothing":                      nil,
		"status=active":                     nil,
		"name=img-07&disk_format=iso":       nil,
		"visibility=private&name=img-01":    nil,
		"visibility=shared&name=img-01":     {all[1]},
		// Names match by their start (the in-process extension).
		"sort=bogus&dir=sideways&name=img-3": {all[39], all[38], all[37], all[36], all[35], all[34], all[33], all[32], all[31], all[30]},
		"name=img-4&sort=name&dir=asc":       {all[40], all[41], all[42], all[43], all[44]},
		"name=IMG-4":                         nil,
	} {
		p := b.get("/dashboard/project/images?" + q)
		if p.status != 200 {
			t.Errorf("%s: %d", q, p.status)
		}
		if got := rows(p.body); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	// A marker that went away starts over instead of failing.
	c.json("DELETE", "/v2/images/"+all[19], alice, nil, 204, nil)
	p = b.get("/dashboard/project/images?sort=name&dir=asc&marker=" + all[19])
	if got := rows(p.body); p.status != 200 || len(got) != 20 || got[0] != all[0] {
		t.Fatalf("stale marker: %d %d rows", p.status, len(got))
	}
}

func TestTabs(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	c.addUser("bob", "partner")
	alice := c.token("alice", "pw-alice", "demo")
	bob := c.token("bob", "pw-bob", "partner")
	own := c.createImage(alice, map[string]any{"name": "own", "visibility": "private"})["id"].(string)
	comm := c.createImage(bob, map[string]any{"name": "bobs-community", "visibility": "community"})["id"].(string)
	pub := c.createImage(c.adminToken, map[string]any{"name": "golden", "visibility": "public"})["id"].(string)
	shared := c.createImage(bob, map[string]any{"name": "bobs-shared", "visibility": "shared"})["id"].(string)
	c.json("POST", "/v2/images/"+shared+"/members", bob, map[string]string{"member": c.projects["demo"]}, 200, nil)
	ownShared := c.createImage(alice, map[string]any{"name": "alices-shared", "visibility": "shared"})["id"].(string)

	b := c.browser()
	b.signIn("alice", "pw-alice")
	for q, want := range map[string][]string{
		"":                           {ownShared, own},
		"tab=community":              {comm},
		"tab=public":                 {pub},
		"tab=shared":                 {shared},
		"tab=shared&member=pending":  {shared},
		"tab=shared&member=accepted": nil,
	} {
		p := b.get("/dashboard/project/images?" + q)
		if got := rows(p.body); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
	// Accept the share from the shared tab.
	p := b.hx("POST", "/dashboard/images/"+shared+"/share", url.Values{"status": {"accepted"}}, "")
	if p.status != 200 || !strings.Contains(p.header.Get("HX-Trigger"), "glint-refresh") {
		t.Fatalf("accept: %d %s", p.status, p.body)
	}
	p = b.get("/dashboard/project/images?tab=shared&member=accepted")
	if got := rows(p.body); !slices.Equal(got, []string{shared}) || !strings.Contains(p.body, `member-accepted">Accepted`) {
		t.Fatalf("accepted: %v", got)
	}
	// An admin lists every shared image, but the tab keeps those shared
	// with the admin's project.
	admin := c.browser()
	admin.signIn("admin", adminPassword)
	if got := rows(admin.get("/dashboard/project/images?tab=shared").body); len(got) != 0 {
		t.Fatalf("admin's shared tab: %v", got)
	}
}

func TestXSS(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	hostile := `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`
	img := c.createImage(alice, map[string]any{"name": hostile, "visibility": "shared", "description": `</textarea><script>alert(3)</script>`,
		`k"><script>alert(4)</script>`: `v"><svg onload=alert(5)>`, "os_distro": `{{.CSRF}}`})
	id := img["id"].(string)
	c.json("POST", "/v2/images/"+id+"/members", alice, map[string]string{"member": `m"><script>alert(6)</script>`}, 200, nil)
	b := c.browser()
	b.signIn("alice", "pw-alice")
	for _, path := range []string{"/dashboard/project/images", "/dashboard/images/" + id, "/dashboard/images/" + id + "/edit",
		"/dashboard/images/" + id + "/members", "/dashboard/images/delete?id=" + id, "/dashboard/images/" + id + "/row?panel=project&tab=project"} {
		p := b.get(path)
		if p.status != 200 {
			t.Fatalf("%s: %d", path, p.status)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "</textarea><script"} {
			if strings.Contains(p.body, bad) {
				t.Errorf("%s carries %q unescaped", path, bad)
			}
		}
		if !strings.Contains(p.body, "&lt;script&gt;alert(") {
			t.Errorf("%s does not show the hostile text escaped", path)
		}
	}
	// Templates are not evaluated twice: a value that looks like one is
	// shown as it is.
	if p := b.get("/dashboard/images/" + id); !strings.Contains(p.body, "{{.CSRF}}") {
		t.Error("a property value was interpreted")
	}
}

func TestPolicyAppliesToTheDashboard(t *testing.T) {
	t.Parallel()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(`"modify_image": "role:admin"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCloud(t, func(cfg *config.Config) { cfg.PolicyFile = policy })
	c.addUser("alice", "demo")
	c.addUser("bob", "partner")
	alice := c.token("alice", "pw-alice", "demo")
	bob := c.token("bob", "pw-bob", "partner")
	mine := c.createImage(alice, map[string]any{"name": "mine", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	bobs := c.createImage(bob, map[string]any{"name": "bobs-private", "visibility": "private"})["id"].(string)
	b := c.browser()
	b.signIn("alice", "pw-alice")

	// Another project's private image is not there for alice.
	if p := b.get("/dashboard/images/" + bobs); p.status != http.StatusNotFound {
		t.Fatalf("bob's private image: %d", p.status)
	}
	// The policy file says only admins modify images: the edit form
	// shows the API's refusal and nothing changes.
	p := b.hx("POST", "/dashboard/images/"+mine+"/edit", url.Values{"name": {"renamed"}, "visibility": {"shared"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "form-error") {
		t.Fatalf("edit against the policy: %d %s", p.status, p.body)
	}
	if img, _ := c.image(alice, mine); img["name"] != "mine" {
		t.Fatalf("renamed against the policy: %v", img["name"])
	}
	// Deactivating is for admins: the API says no, the notice says why.
	p = b.hx("POST", "/dashboard/images/"+mine+"/deactivate", url.Values{}, "")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "toast-error") {
		t.Fatalf("deactivate as a member: %d %s", p.status, p.body)
	}
	// The admin may.
	admin := c.browser()
	admin.signIn("admin", adminPassword)
	p = admin.hx("POST", "/dashboard/images/"+mine+"/edit", url.Values{"name": {"renamed"}, "visibility": {"shared"}}, "modal-content")
	if p.status != 200 {
		t.Fatalf("edit as admin: %d %s", p.status, p.body)
	}
	if img, _ := c.image(alice, mine); img["name"] != "renamed" {
		t.Fatalf("admin's edit: %v", img["name"])
	}
}

func TestCreateUploadDownload(t *testing.T) {
	t.Parallel()
	remote := bytes.Repeat([]byte("remote image "), 50_000)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(remote)))
		w.Write(remote)
	}))
	defer origin.Close()
	port, _ := strconv.Atoi(origin.URL[strings.LastIndexByte(origin.URL, ':')+1:])
	c := newCloud(t, func(cfg *config.Config) {
		// web-download may reach this test's server, and only it.
		cfg.Import.WebDownload.AllowedNetworks = []string{"127.0.0.1/32"}
		cfg.Import.WebDownload.AllowedPorts = append(cfg.Import.WebDownload.AllowedPorts, port)
	})
	c.addUser("alice", "demo")
	b := c.browser()
	b.signIn("alice", "pw-alice")

	// Errors come back in the form, next to their fields.
	p := b.hx("POST", "/dashboard/project/images", url.Values{"source": {"file"}, "disk_format": {"floppy"}, "min_disk": {"-3"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Enter a name.") ||
		!strings.Contains(p.body, "Choose a disk format.") || !strings.Contains(p.body, "Enter a whole number") {
		t.Fatalf("bad create: %d %s", p.status, p.body)
	}
	p = b.hx("POST", "/dashboard/project/images", url.Values{"source": {"url"}, "url": {"file:///etc/passwd"}, "name": {"x"}, "disk_format": {"raw"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Enter an http or https URL.") {
		t.Fatalf("a file: URL: %d %s", p.status, p.body)
	}
	// An address the server may not fetch from: the import does not
	// start, and the image is removed again.
	p = b.hx("POST", "/dashboard/project/images", url.Values{"source": {"url"}, "url": {"http://169.254.169.254/latest/meta-data"}, "name": {"x"}, "disk_format": {"raw"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "The import could not start") {
		t.Fatalf("a metadata-service URL: %d %s", p.status, p.body)
	}
	alice := c.token("alice", "pw-alice", "demo")
	var list struct{ Images []image }
	c.json("GET", "/v2/images", alice, nil, 200, &list)
	if len(list.Images) != 0 {
		t.Fatalf("a refused form left images: %v", list.Images)
	}

	// From a URL (web-download): the server fetches it; the details page
	// lists the import task.
	p = b.hx("POST", "/dashboard/project/images", url.Values{"source": {"url"}, "url": {origin.URL + "/remote.raw"}, "name": {"from-url"},
		"disk_format": {"raw"}, "container_format": {"bare"}}, "modal-content")
	if p.status != 200 || !strings.Contains(p.body, "being imported") {
		t.Fatalf("create from a URL: %d %s", p.status, p.body)
	}
	c.json("GET", "/v2/images?name=from-url", alice, nil, 200, &list)
	if len(list.Images) != 1 {
		t.Fatalf("images from the URL: %v", list.Images)
	}
	fromURL := list.Images[0]["id"].(string)
	c.waitStatus(alice, fromURL, "active")
	// The task finishes just after the image turns active; its part of
	// the page asks again (every 2s in the browser) until then.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		p = b.hx("GET", "/dashboard/images/"+fromURL+"/tasks", nil, "tasks")
		if strings.Contains(p.body, "api_image_import") && strings.Contains(p.body, `status-success`) {
			break
		}
		if !strings.Contains(p.body, "every 2s") || time.Now().After(deadline) {
			t.Fatalf("the import task: %s", p.body)
		}
	}
	if p = b.get("/dashboard/images/" + fromURL); !strings.Contains(p.body, `status-success`) || !strings.Contains(p.body, "web-download") {
		t.Fatalf("the details do not show the import task: %s", p.body)
	}

	form := url.Values{"name": {"cirros"}, "source": {"file"}, "disk_format": {"raw"}, "container_format": {"bare"},
		"min_disk": {"1"}, "min_ram": {"64"}, "architecture": {"x86_64"}, "os_distro": {"cirros"}, "description": {"tiny"},
		"visibility": {"private"}, "protected": {"on"}, "prop_key": {"hw_disk_bus", ""}, "prop_value": {"virtio", ""},
		"tags": {" a, b ,a,, c "}, "hidden": {"on"}}
	p = b.hx("POST", "/dashboard/project/images", form, "modal-content")
	if p.status != 200 {
		t.Fatalf("create: %d %s", p.status, p.body)
	}
	var trigger struct {
		Upload struct{ ID, URL, Name string } `json:"glint-upload"`
	}
	if err := json.Unmarshal([]byte(p.header.Get("HX-Trigger")), &trigger); err != nil || trigger.Upload.ID == "" {
		t.Fatalf("HX-Trigger %q: %v", p.header.Get("HX-Trigger"), err)
	}
	id := trigger.Upload.ID
	img, _ := c.image(alice, id)
	if img["status"] != "queued" || img["min_ram"] != float64(64) || img["protected"] != true || img["hw_disk_bus"] != "virtio" ||
		img["description"] != "tiny" || img["os_distro"] != "cirros" || img["visibility"] != "private" ||
		fmt.Sprint(img["tags"]) != "[a b c]" || img["os_hidden"] != true {
		t.Fatalf("created: %v", img)
	}

	// The browser's PUT goes through to the API, streamed.
	data := bytes.Repeat([]byte("glint!"), 200_000)
	req, _ := http.NewRequest("PUT", c.url+trigger.Upload.URL, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	sum := md5.Sum(data)
	if img, _ = c.image(alice, id); img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) || img["size"] != float64(len(data)) {
		t.Fatalf("after upload: %v", img)
	}
	// Uploading again is the API's 409, passed on as is.
	req, _ = http.NewRequest("PUT", c.url+trigger.Upload.URL, strings.NewReader("again"))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, _ = b.hc.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 409 || !strings.Contains(string(body), "message") {
		t.Fatalf("second upload: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("PUT", c.url+trigger.Upload.URL, strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, _ = b.hc.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("upload as text/plain: %d", resp.StatusCode)
	}

	// Download with a file name.
	resp, err = b.hc.Get(c.url + "/dashboard/images/" + id + "/file")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Disposition") != `attachment; filename=cirros.raw` {
		t.Fatalf("download: %d %d bytes %q", resp.StatusCode, len(got), resp.Header.Get("Content-Disposition"))
	}

	// The row of the new image, as it polls itself.
	p = b.hx("GET", "/dashboard/images/"+id+"/row?panel=project&tab=project", nil, "row-"+id)
	if !strings.Contains(p.body, `data-status="active"`) || strings.Contains(p.body, "every 2s") {
		t.Fatalf("active row: %s", p.body)
	}
	// Details show what the API has.
	p = b.get("/dashboard/images/" + id)
	for _, want := range []string{hex.EncodeToString(sum[:]), "sha512", "hw_disk_bus", "virtio", "x86_64", "64 MB"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("details lack %q", want)
		}
	}
}

func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	id := c.createImage(alice, map[string]any{"name": "base", "disk_format": "raw", "container_format": "bare",
		"os_distro": "debian", "keep": "1", "drop": "2", "change": "3", "tags": []string{"t1"}})["id"].(string)
	prot := c.createImage(alice, map[string]any{"name": "precious", "protected": true})["id"].(string)
	b := c.browser()
	b.signIn("alice", "pw-alice")

	p := b.get("/dashboard/images/" + id + "/edit")
	if p.status != 200 || !strings.Contains(p.body, `value="keep"`) || !strings.Contains(p.body, `name="disk_format"`) {
		t.Fatalf("edit form: %d", p.status)
	}
	// Only what the form changes is sent: the attributes it has no field
	// for (checksums, owner, ...) are left alone.
	form := url.Values{"name": {"renamed"}, "visibility": {"community"}, "min_disk": {"2"}, "min_ram": {"0"},
		"disk_format": {"qcow2"}, "container_format": {"bare"}, "os_distro": {"debian"}, "os_version": {"12"},
		"prop_key": {"keep", "change", "new"}, "prop_value": {"1", "33", "4"}, "tags": {"t1, t2"}}
	p = b.hx("POST", "/dashboard/images/"+id+"/edit", form, "modal-content")
	if p.status != 200 || !strings.Contains(p.header.Get("HX-Trigger"), "glint-close-modal") {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	img, _ := c.image(alice, id)
	if img["name"] != "renamed" || img["visibility"] != "community" || img["min_disk"] != float64(2) || img["disk_format"] != "qcow2" ||
		img["keep"] != "1" || img["change"] != "33" || img["new"] != "4" || img["os_version"] != "12" || img["drop"] != nil ||
		fmt.Sprint(img["tags"]) != "[t1 t2]" || img["os_hidden"] != false {
		t.Fatalf("after saving: %v", img)
	}
	// A property the form edits with its own field cannot be doubled.
	form.Set("prop_key", "description")
	p = b.hx("POST", "/dashboard/images/"+id+"/edit", form, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "own field") {
		t.Fatalf("description as a custom property: %d", p.status)
	}

	// Delete: the confirmation names the images and sets protected ones
	// apart.
	p = b.get("/dashboard/images/delete?id=" + id + "&id=" + prot)
	if !strings.Contains(p.body, "renamed") || !strings.Contains(p.body, "Protected images are not deleted") ||
		strings.Contains(p.body, `name="id" value="`+prot+`"`) {
		t.Fatalf("confirmation: %s", p.body)
	}
	// A forged request for the protected image gets the API's refusal,
	// by name, and deletes the rest.
	p = b.hx("POST", "/dashboard/images/delete", url.Values{"id": {id, prot}, "name_" + prot: {"precious"}}, "modal-content")
	if p.status != 200 || !strings.Contains(p.body, "precious") || !strings.Contains(p.body, "Some images were not deleted") {
		t.Fatalf("delete with a protected one: %d %s", p.status, p.body)
	}
	if _, s := c.image(alice, id); s != 404 {
		t.Fatalf("deleted image: %d", s)
	}
	if _, s := c.image(alice, prot); s != 200 {
		t.Fatalf("protected image: %d", s)
	}
	if p = b.get("/dashboard/images/delete"); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty selection: %d", p.status)
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	c.addUser("bob", "partner")
	alice := c.token("alice", "pw-alice", "demo")
	id := c.createImage(alice, map[string]any{"name": "to-share", "visibility": "private"})["id"].(string)
	b := c.browser()
	b.signIn("alice", "pw-alice")
	p := b.hx("GET", "/dashboard/images/"+id+"/members", nil, "modal-content")
	if !strings.Contains(p.body, "Switch to Shared") {
		t.Fatalf("private image's sharing dialog: %s", p.body)
	}
	p = b.hx("POST", "/dashboard/images/"+id+"/shared", url.Values{}, "modal-content")
	if img, _ := c.image(alice, id); img["visibility"] != "shared" || !strings.Contains(p.body, "member-add") {
		t.Fatalf("make shared: %v", img["visibility"])
	}
	partner := c.projects["partner"]
	p = b.hx("POST", "/dashboard/images/"+id+"/members", url.Values{"member": {partner}}, "modal-content")
	if p.status != 200 || !strings.Contains(p.body, partner) || !strings.Contains(p.body, "member-pending") {
		t.Fatalf("add member: %d %s", p.status, p.body)
	}
	// Twice is the API's conflict, shown in the dialog.
	p = b.hx("POST", "/dashboard/images/"+id+"/members", url.Values{"member": {partner}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "field-error") {
		t.Fatalf("add member twice: %d", p.status)
	}
	// Bob rejects, then accepts.
	bob := c.browser()
	bob.signIn("bob", "pw-bob")
	for _, status := range []string{"rejected", "accepted"} {
		if p := bob.hx("POST", "/dashboard/images/"+id+"/share", url.Values{"status": {status}}, ""); p.status != 200 {
			t.Fatalf("%s: %d %s", status, p.status, p.body)
		}
		var m struct{ Status string }
		c.json("GET", "/v2/images/"+id+"/members/"+partner, alice, nil, 200, &m)
		if m.Status != status {
			t.Fatalf("member status %q, want %q", m.Status, status)
		}
	}
	if p := bob.hx("POST", "/dashboard/images/"+id+"/share", url.Values{"status": {"maybe"}}, ""); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad answer: %d", p.status)
	}
	// Alice removes the member.
	p = b.hx("POST", "/dashboard/images/"+id+"/members/"+partner+"/remove", url.Values{}, "modal-content")
	if p.status != 200 || strings.Contains(p.body, "member-accepted") {
		t.Fatalf("remove member: %d %s", p.status, p.body)
	}
	// A member id with path characters (Glance takes any string) is
	// removed too: it is escaped on the way in and out.
	odd := "a/b?c#d e"
	c.json("POST", "/v2/images/"+id+"/members", alice, map[string]string{"member": odd}, 200, nil)
	p = b.hx("GET", "/dashboard/images/"+id+"/members", nil, "modal-content")
	remove := regexp.MustCompile(`hx-post="(/dashboard/images/[^"]+/remove)"`).FindStringSubmatch(p.body)
	if remove == nil {
		t.Fatalf("no remove button: %s", p.body)
	}
	if p = b.hx("POST", html.UnescapeString(remove[1]), url.Values{}, "modal-content"); p.status != 200 {
		t.Fatalf("removing %q: %d %s", odd, p.status, p.body)
	}
	var ms struct{ Members []any }
	c.json("GET", "/v2/images/"+id+"/members", alice, nil, 200, &ms)
	if len(ms.Members) != 0 {
		t.Fatalf("members after removing: %v", ms.Members)
	}
	if p = b.get("/dashboard/images/..%2Fquotas/edit"); p.status != http.StatusNotFound {
		t.Fatalf("an id with path characters: %d", p.status)
	}
}

func TestAdminPanels(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	id := c.createImage(alice, map[string]any{"name": "alices", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	c.upload(alice, id, []byte("data"))
	admin := c.browser()
	admin.signIn("admin", adminPassword)

	p := admin.get("/dashboard/admin/images")
	if !slices.Contains(rows(p.body), id) || !regexp.MustCompile(`<td class="owner" data-label="Owner" title="`+c.projects["demo"]+`">demo</td>`).MatchString(p.body) {
		t.Fatalf("admin images: %s", p.body)
	}
	p = admin.get("/dashboard/admin/images?owner=" + c.projects["admin"])
	if slices.Contains(rows(p.body), id) {
		t.Fatal("the owner filter lets alice's image through")
	}
	for _, action := range []string{"deactivate", "reactivate"} {
		p = admin.hx("POST", "/dashboard/images/"+id+"/"+action, url.Values{}, "")
		if p.status != 200 || !strings.Contains(p.body, "alices") {
			t.Fatalf("%s: %d %s", action, p.status, p.body)
		}
		img, _ := c.image(alice, id)
		if want := map[string]string{"deactivate": "deactivated", "reactivate": "active"}[action]; img["status"] != want {
			t.Fatalf("after %s: %v", action, img["status"])
		}
	}

	demo := c.projects["demo"]
	p = admin.get("/dashboard/admin/quotas")
	if p.status != 200 || !strings.Contains(p.body, demo) || !strings.Contains(p.body, "0 MiB") {
		t.Fatalf("quotas page: %d", p.status)
	}
	if p = admin.get("/dashboard/admin/quotas?project=dem"); strings.Contains(p.body, ">admin <") {
		t.Fatal("the project filter lets admin through")
	}
	p = admin.hx("POST", "/dashboard/admin/quotas/"+demo, url.Values{"image_count_total": {"x"}, "image_size_total": {"-1"},
		"image_count_uploading": {"-1"}, "image_stage_total": {"-1"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "whole number") {
		t.Fatalf("bad quota: %d", p.status)
	}
	p = admin.hx("POST", "/dashboard/admin/quotas/"+demo, url.Values{"image_count_total": {"5"}, "image_size_total": {"1024"},
		"image_count_uploading": {"-1"}, "image_stage_total": {"-1"}}, "modal-content")
	if p.status != 200 {
		t.Fatalf("set quota: %d %s", p.status, p.body)
	}
	var q struct {
		Quotas map[string]struct{ Usage, Limit int64 } `json:"quotas"`
	}
	c.json("GET", "/v2/quotas/"+demo, c.adminToken, nil, 200, &q)
	if q.Quotas["image_count_total"].Limit != 5 || q.Quotas["image_size_total"].Limit != 1024 {
		t.Fatalf("quotas: %+v", q)
	}
	p = admin.get("/dashboard/admin/quotas")
	if !strings.Contains(p.body, `of 5`) || !strings.Contains(p.body, "<meter") {
		t.Fatal("the quotas page does not show the new limit")
	}
	if p = admin.hx("POST", "/dashboard/admin/quotas/"+demo+"/reset", url.Values{}, "modal-content"); p.status != 200 {
		t.Fatalf("reset: %d", p.status)
	}
	c.json("GET", "/v2/quotas/"+demo, c.adminToken, nil, 200, &q)
	if q.Quotas["image_count_total"].Limit != -1 {
		t.Fatalf("after reset: %+v", q)
	}

	// Members see neither panel.
	b := c.browser()
	b.signIn("alice", "pw-alice")
	if p := b.get("/dashboard/admin/quotas"); p.status != http.StatusForbidden {
		t.Fatalf("quotas as a member: %d", p.status)
	}
	// and cannot set quotas through the dashboard's route either: the
	// API refuses, and the form says so in the API's words.
	p = b.hx("POST", "/dashboard/admin/quotas/"+demo, url.Values{"image_count_total": {"100"}}, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Only admins may change quotas.") {
		t.Fatalf("quota as a member: %d %s", p.status, p.body)
	}
}

// TestCatalogEditor: the metadata editor offers the properties of the
// server's metadata definitions with inputs of their types, and asks
// before saving a value the definitions do not allow.
func TestCatalogEditor(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	id := c.createImage(alice, map[string]any{"name": "typed", "hw_disk_bus": "virtio", "hw_cdrom_bus": "floppy-drive"})["id"].(string)
	b := c.browser()
	b.signIn("alice", "pw-alice")
	const ns = "OS::Compute::LibvirtImage"

	p := b.hx("GET", "/dashboard/images/"+id+"/edit", nil, "modal-content")
	if !strings.Contains(p.body, `id="md-namespace"`) || !strings.Contains(p.body, `value="`+ns+`"`) {
		t.Fatalf("no catalog picker: %s", p.body)
	}
	// Known properties get a select with the allowed values; a value
	// outside them is kept, marked.
	if !regexp.MustCompile(`<select name="prop_value" aria-label="Value of hw_disk_bus">\s*(<option[^>]*>[^<]*</option>)*<option value="virtio" selected>virtio</option>`).MatchString(p.body) {
		t.Fatalf("hw_disk_bus is not a select with virtio chosen: %s", p.body)
	}
	if !strings.Contains(p.body, `<option value="floppy-drive" selected>floppy-drive (not in the catalog)</option>`) {
		t.Fatal("a value outside the definition is not kept")
	}
	p = b.hx("GET", "/dashboard/metadefs?md_namespace="+url.QueryEscape(ns), nil, "md-properties")
	if !strings.Contains(p.body, `<option value="hw_rng_model"`) {
		t.Fatalf("namespace properties: %s", p.body)
	}
	p = b.hx("GET", "/dashboard/images/property?namespace="+url.QueryEscape(ns)+"&property=hw_rng_model", nil, "prop-rows")
	if !strings.Contains(p.body, `value="hw_rng_model"`) || !strings.Contains(p.body, `readonly`) || !strings.Contains(p.body, `value="virtio"`) {
		t.Fatalf("a picked property's row (default value virtio): %s", p.body)
	}
	if p := b.hx("GET", "/dashboard/images/property?namespace="+url.QueryEscape(ns)+"&property=nope", nil, "prop-rows"); p.status != http.StatusNotFound {
		t.Fatalf("an unknown property: %d", p.status)
	}

	form := url.Values{"name": {"typed"}, "visibility": {"shared"}, "min_disk": {"0"}, "min_ram": {"0"},
		"prop_key": {"hw_disk_bus", "hw_cdrom_bus"}, "prop_value": {"scsi", "floppy-drive"}}
	p = b.hx("POST", "/dashboard/images/"+id+"/edit", form, "modal-content")
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "do not match the cloud's metadata definitions") ||
		!strings.Contains(p.body, "hw_cdrom_bus") || !strings.Contains(p.body, `name="ignore_catalog"`) {
		t.Fatalf("a value against the catalog: %d %s", p.status, p.body)
	}
	if img, _ := c.image(alice, id); img["hw_disk_bus"] != "virtio" {
		t.Fatalf("saved before asking: %v", img)
	}
	form.Set("ignore_catalog", "on")
	if p = b.hx("POST", "/dashboard/images/"+id+"/edit", form, "modal-content"); p.status != 200 {
		t.Fatalf("saving anyway: %d %s", p.status, p.body)
	}
	if img, _ := c.image(alice, id); img["hw_disk_bus"] != "scsi" || img["hw_cdrom_bus"] != "floppy-drive" {
		t.Fatalf("after saving anyway: %v", img)
	}
}
