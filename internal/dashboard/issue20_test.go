package dashboard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The tests of issue 20: what a Horizon user hits in the first session.
// Each starts its own glint and checks its item at the three sizes
// people use: a laptop, a small laptop and a phone.

type viewport struct {
	name  string
	w, h  int64
	phone bool
}

var viewports = []viewport{{"1280x800", 1280, 800, false}, {"1024x768", 1024, 768, false}, {"390x844", 390, 844, true}}

func (b *tab) resize(v viewport) {
	b.t.Helper()
	b.vp = &v
	if v.phone {
		b.do(chromedp.EmulateViewport(v.w, v.h, chromedp.EmulateMobile))
	} else {
		b.do(chromedp.EmulateViewport(v.w, v.h))
	}
}

// fits lists what does not fit the window: a page that scrolls sideways,
// and each element matching sel that is not wholly inside the window
// and inside every scrolling box around it.
func (b *tab) fits(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`(() => {
	const out = [];
	const W = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > W + 1) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + W);
	for (const el of document.querySelectorAll(%q)) {
		if (el.offsetParent === null) continue;
		const r = el.getBoundingClientRect();
		const what = (el.getAttribute("aria-label") || el.textContent.trim()).slice(0, 50);
		if (r.left < -1 || r.right > W + 1) { out.push(what + ": outside the window (" + Math.round(r.left) + "–" + Math.round(r.right) + " of " + W + ")"); continue; }
		for (let p = el.parentElement; p; p = p.parentElement) {
			const s = getComputedStyle(p);
			if (s.overflowX === "visible") continue;
			const pr = p.getBoundingClientRect();
			if (r.left < pr.left - 1 || r.right > pr.right + 1) { out.push(what + ": hidden by the scrolling " + p.tagName.toLowerCase() + "." + p.className); break; }
		}
	}
	for (const w of document.querySelectorAll(".table-wrap")) if (w.scrollWidth > w.clientWidth + 1) out.push("a table scrolls sideways: " + w.scrollWidth + " > " + w.clientWidth);
	for (const w of document.querySelectorAll(".shell")) if (w.scrollWidth > w.clientWidth + 1) out.push("the page scrolls sideways: " + w.scrollWidth + " > " + w.clientWidth);
	return out;
})()`, sel))
}

// issue20Cloud is a cloud with alice in demo, bob in partner, and the
// images a first session meets.
func issue20Cloud(t *testing.T, extra ...string) (*cloud, map[string]string) {
	c := newProcessCloud(t, extra...)
	c.addUser("alice", "demo")
	c.addUser("bob", "partner")
	alice := c.token("alice", "pw-alice", "demo")
	ids := map[string]string{}
	for _, name := range []string{"ubuntu-24.04-server-cloudimg-amd64", "cirros-0.6.2-x86_64-disk"} {
		img := c.createImage(alice, map[string]any{"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "shared",
			"architecture": "x86_64", "os_distro": "ubuntu"})
		c.upload(alice, img["id"].(string), []byte(strings.Repeat("x", 4096)))
		ids[name] = img["id"].(string)
	}
	q := c.createImage(alice, map[string]any{"name": "queued-image", "disk_format": "raw", "container_format": "bare"})
	ids["queued-image"] = q["id"].(string)
	c.json("POST", "/v2/images/"+ids["ubuntu-24.04-server-cloudimg-amd64"]+"/members", alice, map[string]string{"member": c.projects["partner"]}, 200, nil)
	return c, ids
}

// openCreate opens the Create dialog and waits for it.
func (b *tab) openCreate() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/project/images/new"]`)))
	b.waitModal("the create dialog")
	b.until("the create form", `!!document.querySelector("#modal [data-create-form]")`)
}

func (b *tab) closeModal() {
	b.t.Helper()
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitModalClosed("the dialog to close")
}

func (b *tab) noScriptErrors(where string) {
	b.t.Helper()
	if errs := b.scriptErrors(); len(errs) > 0 {
		b.t.Fatalf("%s: script errors: %q", where, errs)
	}
}

// Item 2: Edit on a queued image (whose row keeps polling) opens the
// dialog, and every dialog works after it; a dialog that broke the
// modal's frame does not break the next one.
func TestIssue20EditQueued(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	b := newTab(t, c)
	b.signIn("alice", "pw-alice")
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		b.until("the queued row", rowJS("queued-image")+`?.dataset.status === "queued"`)
		b.openIn("queued-image", `button[hx-get$="/edit"]`, "the edit dialog of the queued image")
		b.waitModal("the edit dialog of the queued image")
		b.until("the edit form", `document.getElementById("img-name")?.value === "queued-image"`)
		// A queued image's formats can still be chosen.
		b.until("the format fields", `!!document.querySelector("#modal #img-disk-format")`)
		b.clean("edit dialog of a queued image " + v.name)
		b.shot("i20-edit-queued-" + v.name)
		b.noScriptErrors("Edit on a queued image")
		b.closeModal()
		// The row polls again (every 2 s): the next dialog still opens.
		b.until("a poll of the queued row", `performance.getEntriesByType("resource").filter(e => e.name.includes("/row?")).length > 0`)
		b.openCreate()
		b.closeModal()
		b.openIn("cirros-0.6.2-x86_64-disk", `button[hx-get$="/edit"]`, "the edit dialog of an active image")
		b.waitModal("the edit dialog of an active image")
		b.until("its form", `document.getElementById("img-name")?.value === "cirros-0.6.2-x86_64-disk"`)
		b.closeModal()
		b.noScriptErrors("dialogs after Edit on a queued image")
	}
	// A dialog whose script broke the modal's frame (here: removed it)
	// does not take the other dialogs down with it.
	eval[chromedp.Void](b, `document.getElementById("modal-content").remove()`)
	b.openCreate()
	b.closeModal()
	eval[chromedp.Void](b, `document.getElementById("modal").remove()`)
	b.openCreate()
	b.closeModal()
	b.noScriptErrors("dialogs after a broken one")
}

// Item 1: every panel shows all its actions without sideways scrolling
// at 1280 px, and stays usable at 1024 px and on a 390 px phone: the
// Create dialog centred and whole, the header on one line.
func TestIssue20Width(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	b := newTab(t, c)
	var problems []string
	check := func(where, sel string) {
		for _, p := range b.fits(sel) {
			problems = append(problems, where+": "+p)
		}
		for _, n := range eval[[]string](b, `[...document.querySelectorAll("#image-list td.name")].filter(td => td.offsetParent && td.getBoundingClientRect().width < 120).map(td => td.textContent.trim())`) {
			problems = append(problems, where+": the name "+n+" is squeezed")
		}
	}
	header := func(where string) {
		check(where+" header", ".topbar .brand, .topbar summary, .topbar .user-name, .topbar button")
		if h := eval[float64](b, `document.querySelector(".topbar").getBoundingClientRect().height`); h > 60 {
			problems = append(problems, fmt.Sprintf("%s: the header wraps (%.0f px high)", where, h))
		}
	}
	const rowActions = `#image-list td.actions > button, #image-list td.actions summary, #image-list td.answer button, #image-list td.check input`
	b.signIn("alice", "pw-alice")
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		b.until("the rows", rowJS("cirros-0.6.2-x86_64-disk"))
		where := "Project → Images at " + v.name
		check(where, rowActions)
		header(where)
		b.clean(where)
		b.shot("i20-width-project-" + v.name)
		eval[chromedp.Void](b, rowJS("cirros-0.6.2-x86_64-disk")+`.querySelector("details.row-menu summary").click()`)
		b.until("the row menu", rowJS("cirros-0.6.2-x86_64-disk")+`.querySelector("details.row-menu").open`)
		check(where+", row menu", `details.row-menu[open] .row-menu-items > *`)
		b.shot("i20-width-row-menu-" + v.name)
		b.openCreate()
		if off := eval[[]string](b, `(() => {
			const r = document.getElementById("modal").getBoundingClientRect(), W = document.documentElement.clientWidth, H = innerHeight;
			const out = [];
			if (r.left < 0 || r.right > W || r.top < 0 || r.bottom > H) out.push("the dialog is cut off: " + [r.left, r.top, r.right, r.bottom].map(Math.round) + " in " + W + "x" + H);
			if (Math.abs(r.left - (W - r.right)) > 2) out.push("the dialog is off-centre: " + Math.round(r.left) + " left, " + Math.round(W - r.right) + " right");
			return out;
		})()`); len(off) > 0 {
			problems = append(problems, where+", Create dialog: "+strings.Join(off, "; "))
		}
		check(where+", Create dialog", `#modal input:not([type=hidden]), #modal select, #modal button`)
		b.shot("i20-width-create-" + v.name)
		b.closeModal()
	}
	b.signOut()
	b.signIn("bob", "pw-bob")
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images?tab=shared")
		b.until("the shared row", rowJS("ubuntu-24.04-server-cloudimg-amd64"))
		where := "Shared with me at " + v.name
		check(where, rowActions)
		header(where)
		b.clean(where)
		b.shot("i20-width-shared-" + v.name)
	}
	b.signOut()
	b.signIn("admin", adminPassword)
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/admin/images")
		b.until("the rows", rowJS("cirros-0.6.2-x86_64-disk"))
		where := "Admin → Images at " + v.name
		check(where, rowActions)
		header(where)
		b.clean(where)
		b.shot("i20-width-admin-" + v.name)
	}
	if len(problems) > 0 {
		t.Fatalf("%d layout problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// unsafeQcow2 writes a qcow2 file whose header names a backing file,
// which the format inspector refuses.
func unsafeQcow2(t *testing.T) string {
	t.Helper()
	h := make([]byte, 64<<10)
	copy(h, "QFI\xfb")
	be := func(off int, v uint64, n int) {
		for i := 0; i < n; i++ {
			h[off+n-1-i] = byte(v >> (8 * i))
		}
	}
	be(4, 3, 4)      // version
	be(8, 0x200, 8)  // backing_file_offset
	be(16, 9, 4)     // backing_file_size
	be(20, 16, 4)    // cluster_bits
	be(24, 1<<30, 8) // size
	be(96, 4, 4)     // refcount_order
	be(100, 104, 4)  // header_length
	copy(h[0x200:], "base.qcow2")
	path := filepath.Join(t.TempDir(), "unsafe.qcow2")
	if err := os.WriteFile(path, h, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawWords are pieces of the API's own wording that people must not see.
const rawWordsJS = `(() => { const t = document.body.innerText; return ["Request Entity Too Large", "delta", "<br", "does not pass filtering", "safety checks:", "413"].filter(w => t.includes(w)); })()`

// Item 3: refusals in people's words, and a failed upload's bar is not
// full.
func TestIssue20PlainErrors(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	b := newTab(t, c)
	b.signIn("alice", "pw-alice")

	// The format inspector refuses a qcow2 that names a backing file.
	b.resize(viewports[0])
	b.openCreate()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{unsafeQcow2(t)}))
	b.until("the name from the file", `document.getElementById("img-name").value === "unsafe"`)
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("the failed upload", `document.querySelector("#uploads .upload-failed")`)
	if got := eval[string](b, `document.querySelector("#uploads .upload-failed .upload-text").textContent`); !strings.Contains(got, "refused for safety") {
		t.Fatalf("the failed upload says %q", got)
	}
	if full := eval[bool](b, `(() => { const p = document.querySelector("#uploads .upload-failed progress"); return p.offsetParent !== null && p.value >= p.max; })()`); full {
		t.Fatal("the failed upload's progress bar shows full")
	}
	if raw := eval[[]string](b, rawWordsJS); len(raw) > 0 {
		t.Fatalf("the page shows the API's raw words %q", raw)
	}
	b.clean("failed upload")
	b.shot("i20-error-unsafe-qcow2")

	// A quota refusal says what the quota is and what to do.
	var usage struct {
		Usage map[string]struct{ Usage int64 } `json:"usage"`
	}
	alice := c.token("alice", "pw-alice", "demo")
	c.json("GET", "/v2/info/usage", alice, nil, 200, &usage)
	n := usage.Usage["image_count_total"].Usage
	c.json("PUT", "/v2/quotas/"+c.projects["demo"], c.adminToken, map[string]int64{"image_count_total": n}, 200, nil)
	file, _ := randomFile(t, 4096)
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		b.openCreate()
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{file}))
		b.until("the name from the file", `document.getElementById("img-name").value === "e2e-disk"`)
		b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
		want := fmt.Sprintf("This project may hold %d images and has %d: delete one or ask an admin to raise the quota.", n, n)
		b.until("the quota refusal", fmt.Sprintf(`document.querySelector("#modal .form-error")?.textContent.includes(%q)`, want))
		if raw := eval[[]string](b, rawWordsJS); len(raw) > 0 {
			t.Fatalf("the quota refusal shows the API's raw words %q", raw)
		}
		b.clean("quota refusal " + v.name)
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#modal .form-error").scrollIntoView()`))
		b.shot("i20-error-quota-" + v.name)
		b.closeModal()
	}
	c.json("PUT", "/v2/quotas/"+c.projects["demo"], c.adminToken, map[string]int64{"image_count_total": -1}, 200, nil)

	// A web-download from a loopback address is refused in plain words.
	b.resize(viewports[0])
	b.openCreate()
	if !eval[bool](b, `!!document.querySelector('#modal input[name=source][value=url]')`) {
		t.Fatal("this cloud offers no web-download")
	}
	b.do(
		chromedp.Click(chromedp.CSS(`#modal input[name=source][value=url]`)),
		chromedp.SendKeys(chromedp.CSS("#img-name"), "from-loopback"),
		chromedp.SendKeys(chromedp.CSS("#img-url"), "http://127.0.0.1:8080/disk.raw"),
		chromedp.SetValue(chromedp.CSS("#img-disk-format"), "raw"),
		chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)),
	)
	b.until("the URL refusal", `document.querySelector("#modal .form-error")?.textContent.includes("This cloud does not fetch from that address")`)
	if raw := eval[[]string](b, rawWordsJS); len(raw) > 0 {
		t.Fatalf("the URL refusal shows the API's raw words %q", raw)
	}
	b.clean("URL refusal")
	b.shot("i20-error-url")
	b.noScriptErrors("errors")
}

// Item 4: a failed or cancelled upload's empty queued image: retry or
// delete it right there; cancelling the upload of a new image deletes
// it.
func TestIssue20Leftovers(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	b := newTab(t, c)
	alice := c.token("alice", "pw-alice", "demo")
	b.signIn("alice", "pw-alice")
	gone := func(id string) bool { _, status := c.image(alice, id); return status == 404 }

	// A refused upload: delete the empty image from the upload panel.
	b.openCreate()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{unsafeQcow2(t)}))
	b.until("the name from the file", `document.getElementById("img-name").value === "unsafe"`)
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("the failed upload's offer", `document.querySelector('#uploads .upload-failed button[aria-label^="Delete the empty image"]')`)
	b.until("the new row", rowJS("unsafe"))
	id := eval[string](b, rowJS("unsafe")+`.id.slice(4)`)
	for _, v := range viewports {
		b.resize(v)
		b.clean("failed upload " + v.name)
		b.shot("i20-leftover-failed-" + v.name)
	}
	b.resize(viewports[0])
	eval[chromedp.Void](b, `document.querySelector('#uploads button[aria-label^="Delete the empty image"]').click()`)
	b.until("the row to go", `!`+rowJS("unsafe"))
	if !gone(id) {
		t.Fatal("the empty image was not deleted")
	}

	// A lost connection: the upload resumes by itself once the network
	// is back.
	file, sum := randomFile(t, 64<<10)
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: c.url + "/dashboard/images/*/file", Block: true}}}); err != nil {
		t.Fatal(err)
	}
	b.openCreate()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{file}))
	b.until("the name from the file", `document.getElementById("img-name").value === "e2e-disk"`)
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("the wait for the network", `[...document.querySelectorAll("#uploads .upload-text")].some(x => x.textContent.includes("resuming when the network is back"))`)
	chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{}})
	b.until("the new row", rowJS("e2e-disk"))
	retried := eval[string](b, rowJS("e2e-disk")+`.id.slice(4)`)
	b.until("the resumed upload", `document.querySelector("#uploads .upload-done")`)
	b.until("the image to become active", rowJS("e2e-disk")+`?.dataset.status === "active"`)
	if img, _ := c.image(alice, retried); img["checksum"] != sum {
		t.Fatalf("after the retry: %v", img)
	}

	// Cancelled before anything was stored: the new image is deleted.
	big, _ := randomFile(t, 4<<20)
	if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{URLPattern: c.url + "/dashboard/images/*/file", UploadThroughput: 64 << 10, DownloadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	b.openCreate()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{big}), chromedp.SetValue(chromedp.CSS("#img-name"), "to-cancel"))
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("the row", rowJS("to-cancel"))
	cancelled := eval[string](b, rowJS("to-cancel")+`.id.slice(4)`)
	b.until("the cancel button", `[...document.querySelectorAll("#uploads li:not(.upload-done):not(.upload-failed) button")].find(x => x.textContent === "Cancel")`)
	eval[chromedp.Void](b, `[...document.querySelectorAll("#uploads li:not(.upload-done):not(.upload-failed) button")].find(x => x.textContent === "Cancel").click()`)
	b.until("the cancelled upload", `[...document.querySelectorAll("#uploads .upload-text")].some(x => x.textContent.includes("the empty image was deleted"))`)
	b.until("the row to go", `!`+rowJS("to-cancel"))
	if !gone(cancelled) {
		t.Fatal("the cancelled upload's image was not deleted")
	}
	b.clean("cancelled upload")
	b.shot("i20-leftover-cancelled")
	b.noScriptErrors("leftovers")
}

// Item 8, in part: Deactivate asks first, in the admin's row menu and on
// the details page; the sign-in page says when you signed out or your
// session ended.
func TestIssue20DeactivateAndSignedOut(t *testing.T) {
	t.Parallel()
	c, ids := issue20Cloud(t)
	b := newTab(t, c)
	id := ids["cirros-0.6.2-x86_64-disk"]
	b.signIn("admin", adminPassword)
	b.open("/dashboard/admin/images")
	eval[chromedp.Void](b, rowJS("cirros-0.6.2-x86_64-disk")+`.querySelector("details.row-menu summary").click()`)
	b.openIn("cirros-0.6.2-x86_64-disk", `button[aria-label^="Deactivate"]`, "the deactivate confirmation")
	b.waitModal("the deactivate confirmation")
	if got := eval[string](b, `document.activeElement.textContent`); got != "Cancel" {
		t.Fatalf("the confirmation focuses %q, want Cancel", got)
	}
	b.clean("deactivate confirmation")
	b.shot("i20-deactivate-confirm")
	b.closeModal()
	if img, _ := c.image(c.adminToken, id); img["status"] != "active" {
		t.Fatalf("cancelling the confirmation left the image %v", img["status"])
	}
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/images/" + id)
		b.until("the details", `document.getElementById("detail-status")?.textContent === "Active"`)
		b.do(chromedp.Click(chromedp.CSS(`.head-actions button[hx-get*="/deactivate"]`)))
		b.waitModal("the deactivate confirmation on the details page")
		b.shot("i20-deactivate-details-" + v.name)
		b.do(chromedp.Click(chromedp.CSS(`#modal button.danger[type=submit]`)))
		b.until("deactivated", `document.getElementById("detail-status")?.textContent === "Deactivated"`)
		b.clean("deactivated details " + v.name)
		b.do(chromedp.Click(chromedp.CSS(`.head-actions form[action$="/reactivate"] button`)))
		b.until("reactivated", `document.getElementById("detail-status")?.textContent === "Active"`)
	}
	b.resize(viewports[0])
	b.signOut()
	b.until("the signed-out notice", `document.querySelector(".login-notice")?.textContent === "You are signed out."`)
	b.clean("signed out")
	b.shot("i20-signed-out")
	b.open("/dashboard/images/" + id)
	b.until("the sign-in notice", `document.querySelector(".login-notice")?.textContent.includes("not signed in")`)
	b.noScriptErrors("deactivate and sign-out")
}
