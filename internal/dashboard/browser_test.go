package dashboard_test

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/glint-image/glint/internal/testenv"
)

// The browser tests drive Debian's chromium (GLINT_TEST_CHROMIUM, set by
// .ci/run) against a real `glint serve`, through the tasks of Horizon's
// image guides, and save a screenshot of each panel in
// GLINT_TEST_SCREENSHOTS (default: a new temporary directory, logged).

// waitLong bounds one wait for the page (a status change, a dialog); the
// machine may be busy, so it is generous. It is a deadlock guard, not a
// speed check.
const waitLong = 90 * time.Second

type tab struct {
	t       *testing.T
	ctx     context.Context
	c       *cloud
	shots   string
	n       int
	dialogs []string
	// exceptions are the page's uncaught script errors, as they come.
	mu         sync.Mutex
	exceptions []string
	// vp is the window size resize set last (nil: the browser's own).
	vp *viewport
}

// scriptErrors returns the page's uncaught script errors so far.
func (b *tab) scriptErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

func newTab(t *testing.T, c *cloud) *tab {
	t.Helper()
	exe := os.Getenv("GLINT_TEST_CHROMIUM")
	if exe == "" {
		testenv.Missing(t, "GLINT_TEST_CHROMIUM is not set (.ci/run sets it to Debian's chromium)")
	}
	shots := os.Getenv("GLINT_TEST_SCREENSHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "glint-dashboard-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &tab{t: t, ctx: ctx, c: c, shots: shots}
	// A JavaScript dialog (alert, confirm) is a failure: the dashboard
	// opens none, so one can only come from injected script. It is
	// dismissed so the page goes on, and the test reports it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	// Every page records violations of its Content-Security-Policy.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				msg += " " + ex.Description
			}
			t.Logf("page exception: %s", msg)
			b.mu.Lock()
			b.exceptions = append(b.exceptions, msg)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			for _, a := range ev.Args {
				t.Logf("console.%s: %s %s", ev.Type, a.Value, a.Description)
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.dialogs = append(b.dialogs, ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

// do runs steps with a deadline.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failure")
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript condition to hold. It evaluates the
// condition again and again rather than with one Poll, which a
// navigation in between would break.
func (b *tab) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLong)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	b.shot("failure")
	if html, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.outerHTML`)); err == nil {
		b.t.Logf("page at the failure:\n%s", html)
	}
	b.t.Fatalf("waiting for %s: %v", what, last)
}

// shot saves a screenshot of the whole page. The page scrolls inside
// its shell (the dock stays under it), so for the picture the window is
// made as tall as the content, unless a dialog is open: a dialog is shown
// as the window shows it.
func (b *tab) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	extra, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
		const s = document.querySelector("body.app .shell"), m = document.getElementById("modal");
		if (!s || (m && m.open)) return 0;
		return s.scrollHeight - s.clientHeight;
	})()`))
	if extra > 1 {
		w, h, mobile := int64(1440), int64(900), false
		if b.vp != nil {
			w, h, mobile = b.vp.w, b.vp.h, b.vp.phone
		}
		tall := []chromedp.EmulateViewportOption{}
		if mobile {
			tall = append(tall, chromedp.EmulateMobile)
		}
		chromedp.Run(ctx, chromedp.EmulateViewport(w, h+int64(extra)+1, tall...))
		defer func() {
			if b.vp != nil {
				b.resize(*b.vp)
			} else {
				chromedp.Run(b.ctx, chromedp.EmulateReset())
			}
		}()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// clean checks what every page must keep: no script dialog, no CSP
// violation, a label for every control.
func (b *tab) clean(where string) {
	b.t.Helper()
	if len(b.dialogs) > 0 {
		b.t.Fatalf("%s: a JavaScript dialog opened: %q", where, b.dialogs)
	}
	if v := eval[[]string](b, `window.__csp || []`); len(v) > 0 {
		b.t.Fatalf("%s: Content-Security-Policy violations: %q", where, v)
	}
	unlabelled := eval[[]string](b, `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
		.filter(e => e.offsetParent !== null && e.labels.length === 0 && !e.getAttribute("aria-label"))
		.map(e => e.outerHTML.slice(0, 120))`)
	if len(unlabelled) > 0 {
		b.t.Fatalf("%s: controls without a label: %q", where, unlabelled)
	}
	if low := eval[[]string](b, contrastJS); len(low) > 0 {
		b.t.Fatalf("%s: text below 4.5:1 contrast: %q", where, low)
	}
}

// contrastJS lists visible text whose colour has less than WCAG AA's
// 4.5:1 contrast with the first opaque background behind it. Disabled
// controls are exempt, as WCAG exempts them.
const contrastJS = `(() => {
	const rgb = c => c.match(/[\d.]+/g).map(Number);
	const lum = c => {
		const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const opaque = c => { const v = rgb(c); return v.length < 4 || v[3] > 0.5; };
	const background = el => {
		for (let e = el; e; e = e.parentElement) {
			const c = getComputedStyle(e).backgroundColor;
			if (opaque(c)) return c;
		}
		return "rgb(255, 255, 255)";
	};
	const low = [];
	for (const el of document.querySelectorAll("body *")) {
		if (el.offsetParent === null || el.closest("[disabled], [aria-disabled=true], [hidden]")) continue;
		if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const s = getComputedStyle(el);
		if (s.visibility === "hidden") continue;
		const a = lum(s.color), b = lum(background(el));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		if (ratio < 4.5) low.push(el.tagName.toLowerCase() + "." + el.className + " " + ratio.toFixed(2) + ": " + el.textContent.trim().slice(0, 40));
	}
	return low;
})()`

func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.c.url + path))
	b.until("the page to load", `document.readyState === "complete" && !!window.htmx`)
}

func (b *tab) signIn(user, password string) {
	b.t.Helper()
	b.open("/dashboard/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#login-user"), user),
		chromedp.SendKeys(chromedp.CSS("#login-password"), password),
		chromedp.Click(chromedp.CSS(`.login-card button[type=submit]`)),
	)
	b.until("the images page", `!!document.querySelector("#image-list")`)
	b.until("htmx", `document.readyState === "complete" && !!window.htmx`)
}

func (b *tab) signOut() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`.user button[type=submit]`)))
	b.until("the sign-in page", `!!document.querySelector("#login-user")`)
}

// rowSel finds the table row of an image by name.
func rowJS(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#image-list tbody tr")].find(r => r.querySelector("td.name a") && r.querySelector("td.name a").textContent.trim() === %q)`, name)
}

// clickIn clicks the element matching sel inside the row of an image,
// once htmx has taken over the element if it is one of htmx's: a row
// the table's refresh has just swapped in has no htmx listeners yet, and
// a click on it then does nothing.
func (b *tab) clickIn(name, sel string) {
	b.t.Helper()
	el := rowJS(name) + fmt.Sprintf(`.querySelector(%q)`, sel)
	b.until("the row of "+name, rowJS(name)+` && `+el+` && (!`+el+`.matches("[hx-get],[hx-post],[hx-delete],[hx-put],[hx-patch]") || `+
		el+`["htmx-internal-data"]?.listenerInfos)`)
	eval[chromedp.Void](b, rowJS(name)+fmt.Sprintf(`.querySelector(%q).click()`, sel))
}

// openIn clicks the element matching sel in the row of an image and
// waits for the dialog it opens, clicking again while none opens: htmx
// drops the answer to a click whose row a refresh of the table replaced
// in the meantime (a refused upload refreshes the table), and the dialog
// then never comes.
func (b *tab) openIn(name, sel, what string) {
	b.t.Helper()
	opened := `document.getElementById("modal").open && document.getElementById("modal-content").childElementCount > 0`
	deadline := time.Now().Add(waitLong)
	for {
		b.clickIn(name, sel)
		for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
			if eval[bool](b, "!!("+opened+")") {
				return
			}
		}
		if time.Now().After(deadline) {
			b.until(what, opened) // fails with the page logged
			return
		}
	}
}

func (b *tab) waitModal(what string) {
	b.t.Helper()
	b.until(what, `document.getElementById("modal").open && document.getElementById("modal-content").childElementCount > 0`)
}

func (b *tab) waitModalClosed(what string) {
	b.t.Helper()
	b.until(what, `!document.getElementById("modal").open`)
}

func randomFile(t *testing.T, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "e2e-disk.img")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	return path, hex.EncodeToString(sum[:])
}

// TestBrowser goes through the image guides in chromium: each step
// depends on the ones before, so the first failure ends the test.
func TestBrowser(t *testing.T) {
	t.Parallel()
	if os.Getenv("GLINT_TEST_CHROMIUM") == "" {
		testenv.Missing(t, "GLINT_TEST_CHROMIUM is not set (.ci/run sets it to Debian's chromium)")
	}
	// An origin for web-download that sends half the image and waits for
	// the test to let it finish, so the import's progress can be seen.
	remote := make([]byte, 4<<20)
	rand.Read(remote)
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(remote)))
		half := len(remote) / 2
		w.Write(remote[:half])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write(remote[half:])
	}))
	defer origin.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	port := origin.URL[strings.LastIndexByte(origin.URL, ':')+1:]
	conf := filepath.Join(t.TempDir(), "glint.yaml")
	if err := os.WriteFile(conf, []byte("import:\n  web_download:\n    allowed_networks: [127.0.0.1/32]\n    allowed_ports: [80, 443, "+port+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newProcessCloud(t, "--config", conf)
	demo := c.addProject("demo")
	demo2 := c.addProject("demo2")
	partner := c.addProject("partner")
	c.addUser("alice", "demo", "demo2")
	c.addUser("bob", "partner")
	b := newTab(t, c)

	// Sign in, and the root sends browsers to the dashboard.
	b.open("/")
	b.until("the sign-in page", `!!document.querySelector("#login-user")`)
	b.clean("sign-in page")
	b.shot("sign-in")
	b.signIn("alice", "pw-alice")
	b.clean("empty images page")
	if got := eval[string](b, `document.querySelector(".switcher summary strong").textContent`); got != "demo" {
		t.Fatalf("signed in to project %q, want demo (the default project)", got)
	}

	// The project switcher lists both projects and switches.
	b.do(chromedp.Click(chromedp.CSS(".switcher summary")))
	b.until("the project list", `[...document.querySelectorAll(".switcher .menu-list button")].length === 2`)
	b.shot("project-switcher")
	eval[chromedp.Void](b, `[...document.querySelectorAll(".switcher .menu-list button")].find(x => x.textContent === "demo2").click()`)
	b.until("project demo2", `document.querySelector(".switcher summary strong") && document.querySelector(".switcher summary strong").textContent === "demo2"`)
	b.do(chromedp.Click(chromedp.CSS(".switcher summary")))
	b.until("the project list", `[...document.querySelectorAll(".switcher .menu-list button")].length === 2`)
	eval[chromedp.Void](b, `[...document.querySelectorAll(".switcher .menu-list button")].find(x => x.textContent === "demo").click()`)
	b.until("project demo", `document.querySelector(".switcher summary strong").textContent === "demo"`)

	// The create dialog opens from the keyboard path too, closes with
	// Escape, and gives the focus back.
	b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/project/images/new"]`)))
	b.waitModal("the create dialog")
	if got := eval[string](b, `document.activeElement.id`); got != "img-name" {
		t.Fatalf("the create dialog focused %q, want the name field", got)
	}
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitModalClosed("Escape to close the dialog")
	if got := eval[string](b, `document.activeElement.getAttribute("hx-get")`); got != "/dashboard/project/images/new" {
		t.Fatalf("after closing, focus is on %q, want the Create button", got)
	}

	// Create an image from a file: the browser streams it with a
	// progress bar (upload throttled so the bar can be seen), and the row
	// goes Queued → Saving → Active without a reload.
	file, sum := randomFile(t, 6<<20)
	b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/project/images/new"]`)))
	b.waitModal("the create dialog")
	b.do(
		chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{file}),
	)
	b.until("the name from the file", `document.getElementById("img-name").value === "e2e-disk"`)
	if got := eval[string](b, `document.getElementById("img-disk-format").value`); got != "raw" {
		t.Fatalf("disk format guessed %q from .img", got)
	}
	b.do(
		chromedp.SetValue(chromedp.CSS("#img-name"), "e2e-image"),
		chromedp.SendKeys(chromedp.CSS("#img-description"), "made by the browser test"),
		chromedp.SendKeys(chromedp.CSS("#img-min-disk"), "1"),
		chromedp.SendKeys(chromedp.CSS("#img-arch"), "x86_64"),
	)
	b.clean("create dialog")
	b.shot("create-dialog")
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{URLPattern: c.url + "/dashboard/images/*/file", UploadThroughput: 1 << 20, DownloadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("upload progress", `(() => { const p = document.querySelector("#uploads progress"); return p && p.value > 0 && p.value < p.max; })()`)
	b.until("the new row", rowJS("e2e-image"))
	b.shot("upload-progress")
	b.until("the image to become active", rowJS("e2e-image")+`?.dataset.status === "active"`)
	b.until("the upload to finish", `document.querySelector("#uploads .upload-done") !== null`)
	b.clean("images page after upload")
	b.shot("images-active")
	chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{}})
	alice := c.token("alice", "pw-alice", "demo")
	id := eval[string](b, rowJS("e2e-image")+`.id.slice(4)`)
	img, _ := c.image(alice, id)
	if img["checksum"] != sum || img["status"] != "active" || img["description"] != "made by the browser test" ||
		img["architecture"] != "x86_64" || img["min_disk"] != float64(1) {
		t.Fatalf("the created image: %v (want md5 %s)", img, sum)
	}

	// Edit: name, description, visibility shared, and the metadata
	// editor adds a property.
	b.openIn("e2e-image", `button[hx-get$="/edit"]`, "the edit dialog")
	b.waitModal("the edit dialog")
	b.do(
		chromedp.SetValue(chromedp.CSS("#img-name"), "e2e-edited"),
		chromedp.SetValue(chromedp.CSS("#img-description"), "edited in the browser"),
		chromedp.Click(chromedp.CSS(`#modal input[name=visibility][value=shared]`)),
		chromedp.Click(chromedp.CSS(`#modal button[hx-get="/dashboard/images/property"]`)),
	)
	b.until("a new property row", `document.querySelectorAll("#prop-rows tr").length === 1`)
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#prop-rows tr:last-child input[name=prop_key]`), "e2e_note"),
		chromedp.SendKeys(chromedp.CSS(`#prop-rows tr:last-child input[name=prop_value]`), "hand-written"),
	)
	// Pick a property from the metadata-definition catalog: it comes
	// with its allowed values.
	// SetValue fires input and change itself: one request for the
	// namespace's properties, whose answer cannot land after the pick.
	b.do(chromedp.SetValue(chromedp.CSS("#md-namespace"), "OS::Compute::LibvirtImage"))
	b.until("the namespace's properties", `document.querySelector('#md-property option[value="hw_disk_bus"]')`)
	b.do(chromedp.SetValue(chromedp.CSS("#md-property"), "hw_disk_bus"), chromedp.Click(chromedp.CSS(`.md-pick button`)))
	b.until("the catalog property row", `document.querySelector('#prop-rows select[aria-label="Value of hw_disk_bus"]')`)
	b.do(chromedp.SetValue(chromedp.CSS(`#prop-rows select[aria-label="Value of hw_disk_bus"]`), "virtio"))
	b.clean("edit dialog")
	b.shot("edit-dialog")
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the edit dialog to close")
	b.until("the renamed row", rowJS("e2e-edited"))
	img, _ = c.image(alice, id)
	if img["name"] != "e2e-edited" || img["visibility"] != "shared" || img["hw_disk_bus"] != "virtio" || img["e2e_note"] != "hand-written" ||
		img["description"] != "edited in the browser" {
		t.Fatalf("after editing: %v", img)
	}

	// Create an image from a URL: the server downloads it (web-download)
	// and the details page follows the import task's progress.
	b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/project/images/new"]`)))
	b.waitModal("the create dialog")
	b.do(
		chromedp.Click(chromedp.CSS(`#modal input[name=source][value=url]`)),
		chromedp.SendKeys(chromedp.CSS("#img-name"), "e2e-from-url"),
		chromedp.SendKeys(chromedp.CSS("#img-url"), origin.URL+"/disk.raw"),
		chromedp.SetValue(chromedp.CSS("#img-disk-format"), "raw"),
	)
	b.clean("create from a URL")
	b.shot("create-from-url")
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the create dialog to close")
	b.until("the imported row", rowJS("e2e-from-url"))
	urlID := eval[string](b, rowJS("e2e-from-url")+`.id.slice(4)`)
	b.open("/dashboard/images/" + urlID)
	b.until("import progress", `document.querySelector("#tasks progress[max]")`)
	b.clean("details while importing")
	b.shot("import-progress")
	close(release)
	b.until("the import to finish", `document.querySelector("#tasks .status-success") && document.getElementById("detail-status").textContent === "Active"`)
	b.shot("import-done")
	if img, _ := c.image(alice, urlID); img["size"] != float64(len(remote)) || img["status"] != "active" {
		t.Fatalf("the image from the URL: %v", img)
	}
	b.open("/dashboard/project/images")

	// Share with the partner project.
	b.openIn("e2e-edited", `button[hx-get$="/members"]`, "the sharing dialog")
	b.waitModal("the sharing dialog")
	b.do(chromedp.SendKeys(chromedp.CSS("#member-add"), partner), chromedp.Click(chromedp.CSS(`#modal .inline-form button[type=submit]`)))
	b.until("the new member", fmt.Sprintf(`[...document.querySelectorAll("#modal tbody td")].some(td => td.textContent.includes(%q))`, partner))
	b.clean("sharing dialog")
	b.shot("sharing-dialog")
	b.do(chromedp.Click(chromedp.CSS(`#modal .dialog-foot button[data-close-modal]`)))
	b.waitModalClosed("the sharing dialog to close")

	// The other project sees the share as pending and accepts it.
	b.signOut()
	b.signIn("bob", "pw-bob")
	b.do(chromedp.Click(chromedp.CSS(`.tabs a[href$="tab=shared"]`)))
	b.until("the shared tab", `document.querySelector('.tabs a[aria-current="page"]').textContent.startsWith("Shared with me")`)
	b.until("the shared image", rowJS("e2e-edited"))
	if got := eval[string](b, rowJS("e2e-edited")+`.querySelector(".member").textContent`); got != "Pending" {
		t.Fatalf("bob's answer shows %q, want Pending", got)
	}
	b.clean("shared with me")
	b.shot("shared-with-me-pending")
	b.clickIn("e2e-edited", `button[aria-label^="Accept"]`)
	b.until("the accepted share", rowJS("e2e-edited")+`?.querySelector(".member")?.textContent === "Accepted"`)
	b.shot("shared-with-me-accepted")
	var members struct {
		Members []struct{ MemberID, Status string } `json:"members"`
	}
	c.json("GET", "/v2/images/"+id+"/members", alice, nil, 200, &members)
	if len(members.Members) != 1 || members.Members[0].Status != "accepted" {
		t.Fatalf("members after accepting: %+v", members)
	}

	// Filter and sort, as alice, with more images.
	other := c.createImage(alice, map[string]any{"name": "e2e-other", "disk_format": "iso", "container_format": "bare"})
	prot := c.createImage(alice, map[string]any{"name": "e2e-protected", "disk_format": "raw", "container_format": "bare", "protected": true})
	b.signOut()
	b.signIn("alice", "pw-alice")
	b.until("four rows", `document.querySelectorAll("#image-list tbody tr[id]").length === 4`)
	if got := eval[bool](b, rowJS("e2e-protected")+`.querySelector('input[name="id"]') === null`); !got {
		t.Fatal("the protected image can be selected for deletion")
	}
	b.do(chromedp.SetValue(chromedp.CSS("#flt-format"), "iso"))
	eval[chromedp.Void](b, `document.getElementById("flt-format").dispatchEvent(new Event("change", {bubbles: true}))`)
	b.until("the ISO filter", `document.querySelectorAll("#image-list tbody tr[id]").length === 1 && !!`+rowJS("e2e-other"))
	if !strings.Contains(eval[string](b, `location.search`), "disk_format=iso") {
		t.Fatal("the filter is not in the URL")
	}
	b.clean("filtered list")
	b.shot("filter-disk-format")
	b.open("/dashboard/project/images?name=e2e-protected")
	b.until("the name filter", `document.querySelectorAll("#image-list tbody tr[id]").length === 1 && !!`+rowJS("e2e-protected"))
	b.open("/dashboard/project/images")
	b.do(chromedp.Click(chromedp.CSS(`th[aria-sort] a[href*="sort=name"]`)))
	b.until("sorted by name", `document.querySelector('th[aria-sort="ascending"]') && document.querySelector('th[aria-sort="ascending"]').textContent.includes("Name")`)
	names := eval[[]string](b, `[...document.querySelectorAll("#image-list td.name a")].map(a => a.textContent.trim())`)
	if strings.Join(names, ",") != "e2e-edited,e2e-from-url,e2e-other,e2e-protected" {
		t.Fatalf("sorted by name: %q", names)
	}

	// Delete with confirmation: the dialog names the images; the
	// protected one cannot be chosen.
	eval[chromedp.Void](b, rowJS("e2e-other")+`.querySelector('input[name="id"]').click()`)
	b.until("the delete button", `!document.querySelector("[data-delete-selected]").disabled`)
	b.do(chromedp.Click(chromedp.CSS(`[data-delete-selected]`)))
	b.waitModal("the delete confirmation")
	if got := eval[string](b, `document.querySelector("#modal .name-list").textContent`); !strings.Contains(got, "e2e-other") {
		t.Fatalf("the confirmation does not name the image: %q", got)
	}
	if got := eval[string](b, `document.activeElement.textContent`); got != "Cancel" {
		t.Fatalf("the delete confirmation focuses %q, want Cancel", got)
	}
	b.clean("delete confirmation")
	b.shot("delete-confirm")
	b.do(chromedp.Click(chromedp.CSS(`#modal button.danger[type=submit]`)))
	b.waitModalClosed("the confirmation to close")
	b.until("the row to go", `!`+rowJS("e2e-other"))
	if _, status := c.image(alice, other["id"].(string)); status != 404 {
		t.Fatalf("deleted image answers %d", status)
	}
	if _, status := c.image(alice, prot["id"].(string)); status != 200 {
		t.Fatalf("the protected image answers %d", status)
	}

	// Image details.
	b.open("/dashboard/images/" + id)
	b.until("the details", `document.querySelector("h1") && document.querySelector("h1").textContent.includes("e2e-edited")`)
	if got := eval[string](b, `document.getElementById("sec-checksums").parentElement.textContent`); !strings.Contains(got, sum) {
		t.Fatalf("the details do not show the checksum %s", sum)
	}
	b.clean("details")
	b.shot("image-details")

	// The XSS check: hostile names and properties stay text everywhere.
	hostile := `<script>alert("name")</script><img src=x onerror=alert(1)>`
	evil := c.createImage(alice, map[string]any{"name": hostile, "disk_format": "raw", "container_format": "bare", "visibility": "shared",
		"description": `</textarea><script>alert(3)</script>`, `x"><svg onload=alert(2)>`: `"><img src=y onerror=alert(4)>`})
	c.json("POST", "/v2/images/"+evil["id"].(string)+"/members", alice, map[string]string{"member": `"><img src=z onerror=alert(5)>`}, 200, nil)
	b.open("/dashboard/project/images")
	b.until("the hostile row", rowJS(hostile))
	b.clean("list with hostile names")
	b.open("/dashboard/images/" + evil["id"].(string))
	b.until("the hostile details", `document.querySelector("h1").textContent.includes('<script>alert("name")</script>')`)
	b.clean("details with hostile names")
	b.shot("xss-details")
	b.do(chromedp.Click(chromedp.CSS(`.head-actions button[hx-get$="/edit"]`)))
	b.waitModal("the hostile edit dialog")
	if got := eval[string](b, `document.getElementById("img-description").value`); got != `</textarea><script>alert(3)</script>` {
		t.Fatalf("the description field holds %q", got)
	}
	b.clean("edit dialog with hostile values")
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitModalClosed("the edit dialog to close")
	b.do(chromedp.Click(chromedp.CSS(`.head-actions button[hx-get$="/members"]`)))
	b.waitModal("the hostile sharing dialog")
	b.clean("sharing dialog with hostile members")
	if n := eval[int](b, `document.querySelectorAll("main img[src=x], main img[src=y], main img[src=z], main svg, #modal img, #modal svg, script:not([src])").length`); n != 0 {
		t.Fatalf("%d injected elements in the page", n)
	}
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitModalClosed("the sharing dialog to close")

	// Admin: every project's images with the Owner column, deactivate
	// and reactivate.
	b.signOut()
	b.signIn("admin", adminPassword)
	b.open("/dashboard/admin/images")
	b.until("alice's image in the admin list", rowJS("e2e-edited"))
	if got := eval[string](b, rowJS("e2e-edited")+`.querySelector("td.owner").textContent`); got != "demo" {
		t.Fatalf("Owner column shows %q, want demo", got)
	}
	b.clean("admin images")
	b.shot("admin-images")
	eval[chromedp.Void](b, rowJS("e2e-edited")+`.querySelector("details.row-menu summary").click()`)
	b.until("the row menu", rowJS("e2e-edited")+`.querySelector("details.row-menu").open`)
	b.shot("admin-row-menu")
	eval[chromedp.Void](b, rowJS("e2e-edited")+`.querySelector("details.row-menu summary").click()`)
	b.openIn("e2e-edited", `button[aria-label^="Deactivate"]`, "the deactivate confirmation")
	b.waitModal("the deactivate confirmation")
	b.do(chromedp.Click(chromedp.CSS(`#modal button.danger[type=submit]`)))
	b.waitModalClosed("the confirmation to close")
	b.until("deactivated", rowJS("e2e-edited")+`?.dataset.status === "deactivated"`)
	b.shot("admin-deactivated")
	b.clickIn("e2e-edited", `button[aria-label^="Reactivate"]`)
	b.until("reactivated", rowJS("e2e-edited")+`?.dataset.status === "active"`)

	// Quotas with usage; the admin sets one.
	b.open("/dashboard/admin/quotas")
	quotaRow := fmt.Sprintf(`[...document.querySelectorAll("#quota-list tbody tr")].find(r => r.querySelector("th").textContent.includes(%q))`, demo)
	b.until("demo's quotas", quotaRow)
	if got := eval[string](b, quotaRow+`.querySelectorAll("td")[0].textContent`); !strings.HasPrefix(strings.TrimSpace(got), "4 ") {
		t.Fatalf("demo's image count cell: %q", got)
	}
	b.clean("quotas")
	b.shot("admin-quotas")
	eval[chromedp.Void](b, quotaRow+`.querySelector("button").click()`)
	b.waitModal("the quota dialog")
	b.do(chromedp.SetValue(chromedp.CSS("#q-image_count_total"), "10"))
	b.clean("quota dialog")
	b.shot("quota-dialog")
	b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the quota dialog to close")
	b.until("the new limit", quotaRow+`.querySelectorAll("td")[0].textContent.includes("of 10")`)
	var q struct {
		Quotas map[string]struct{ Usage, Limit int64 } `json:"quotas"`
	}
	c.json("GET", "/v2/quotas/"+demo, c.adminToken, nil, 200, &q)
	if q.Quotas["image_count_total"].Limit != 10 {
		t.Fatalf("quota after saving: %+v", q)
	}
	_ = demo2
}
