package dashboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// coveredJS lists the table rows and pager parts that the uploads panel
// or a notice covers, with the page scrolled to its top, middle and end.
const coveredJS = `(() => {
	const out = [];
	const shell = document.querySelector(".shell");
	const covers = [...document.querySelectorAll("#uploads:not([hidden]), #toasts .toast")].filter(e => e.offsetParent !== null || e.getClientRects().length);
	if (covers.length < 2) out.push("expected the uploads panel and a notice, found " + covers.length);
	const max = shell.scrollHeight - shell.clientHeight;
	for (const top of [0, Math.round(max / 2), max]) {
		shell.scrollTop = top;
		for (const el of document.querySelectorAll("#image-list tbody tr, #image-list .pager a, #image-list .pager select, #image-list .pager span")) {
			// What of the element shows: the part inside the scrolling
			// shell and the window.
			const b = el.getBoundingClientRect(), sr = shell.getBoundingClientRect();
			const r = {left: b.left, right: b.right, top: Math.max(b.top, sr.top, 0), bottom: Math.min(b.bottom, sr.bottom, innerHeight)};
			if (r.bottom <= r.top) continue;
			for (const c of covers) {
				const k = c.getBoundingClientRect();
				if (r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom)
					out.push((el.id || el.textContent.trim().slice(0, 30)) + " is under " + (c.id || c.className) + " at scroll " + top);
			}
		}
	}
	shell.scrollTop = 0;
	return out;
})()`

// scrollersJS lists the boxes of the open dialog that scroll, the dialog
// itself included: a long dialog must scroll in one place only, and fit
// the window.
const scrollersJS = `(() => {
	const d = document.getElementById("modal");
	const out = [];
	for (const el of [d, ...d.querySelectorAll("*")]) {
		const s = getComputedStyle(el);
		if ((s.overflowY === "auto" || s.overflowY === "scroll") && el.scrollHeight > el.clientHeight + 1) out.push(el.tagName.toLowerCase() + "." + el.className);
	}
	const r = d.getBoundingClientRect();
	if (r.top < 0 || r.bottom > innerHeight + 1) out.push("the dialog does not fit the window: " + Math.round(r.top) + "–" + Math.round(r.bottom) + " of " + innerHeight);
	return out;
})()`

// Item 8: the uploads panel and notices never cover the table's rows or
// its pager; a long dialog scrolls in one place; after saving, focus
// goes back to the control that opened the dialog (its new copy after
// the table refreshed), or to a neighbour of a deleted row.
func TestIssue20Polish(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	alice := c.token("alice", "pw-alice", "demo")
	var long string
	// Active images: a fresh queued row reloads itself every 2 s, which
	// would close its menu under the test.
	build := func(name string) string {
		img := c.createImage(alice, map[string]any{"name": name, "visibility": "private", "disk_format": "raw", "container_format": "bare"})
		c.upload(alice, img["id"].(string), []byte("data of "+name))
		return img["id"].(string)
	}
	for i := 0; i < 30; i++ {
		long = build(fmt.Sprintf("build-%03d", i))
	}
	// Many properties make the edit dialog long.
	var ops []map[string]any
	for i := 0; i < 30; i++ {
		ops = append(ops, map[string]any{"op": "add", "path": fmt.Sprintf("/note_%02d", i), "value": fmt.Sprintf("value %d", i)})
	}
	c.json("PATCH", "/v2/images/"+long, alice, ops, 200, nil)

	b := newTab(t, c)
	b.signIn("alice", "pw-alice")
	var problems []string
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")

		// A long dialog scrolls in one place and fits the window.
		b.openIn("build-029", `button[hx-get$="/edit"]`, "the long edit dialog")
		b.waitDialog("the long edit dialog")
		scrollers := eval[[]string](b, scrollersJS)
		switch {
		case len(scrollers) == 0:
			problems = append(problems, "the edit dialog at "+v.name+" does not scroll at all: is it long?")
		case len(scrollers) > 1 || !strings.HasPrefix(scrollers[0], "div.dialog-body"):
			problems = append(problems, "the edit dialog at "+v.name+" scrolls in "+strings.Join(scrollers, ", "))
		}
		b.clean("long edit dialog " + v.name)
		b.shot("i20-polish-long-dialog-" + v.name)
		b.closeModal()
		b.openCreate()
		if scrollers := eval[[]string](b, scrollersJS); len(scrollers) > 1 || len(scrollers) == 1 && !strings.HasPrefix(scrollers[0], "div.dialog-body") {
			problems = append(problems, "the create dialog at "+v.name+" scrolls in "+strings.Join(scrollers, ", "))
		}
		b.closeModal()

		// Focus after saving: the row's Edit button, in the refreshed table.
		eval[chromedp.Void](b, rowJS("build-010")+`.dataset.old = "1"`)
		b.openIn("build-010", `button[hx-get$="/edit"]`, "the edit dialog")
		b.waitDialog("the edit dialog")
		b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit].primary`)))
		b.waitModalClosed("the dialog to close after saving")
		b.until("the refreshed table", rowJS("build-010")+` && !`+rowJS("build-010")+`.dataset.old`)
		b.until("focus on the row's Edit button", `document.activeElement?.getAttribute("aria-label") === "Edit build-010" && document.activeElement.isConnected`)

		// A refused upload keeps the uploads panel up, and saving shows a
		// notice: neither covers a row or the pager, wherever the page is
		// scrolled.
		b.openCreate()
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#img-file"), []string{unsafeQcow2(t)}))
		b.until("the name from the file", `document.getElementById("img-name").value === "unsafe"`)
		b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
		b.waitModalClosed("the create dialog to close")
		b.until("the failed upload", `document.querySelector("#uploads .upload-failed")`)
		b.openIn("build-011", `button[hx-get$="/edit"]`, "the edit dialog")
		b.waitDialog("the edit dialog")
		b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit].primary`)))
		b.waitModalClosed("the dialog to close after saving")
		b.until("the notice", `document.querySelector("#toasts .toast-ok")`)
		for _, s := range eval[[]string](b, coveredJS) {
			problems = append(problems, "at "+v.name+": "+s)
		}
		b.clean("uploads panel and notice " + v.name)
		b.shot("i20-polish-dock-" + v.name)
		eval[chromedp.Void](b, `document.querySelector('#uploads button[aria-label^="Delete the empty image"]').click()`)
		b.until("the leftover to go", `!`+rowJS("unsafe"))

		// Deleting a row: focus goes to a neighbour, not nowhere.
		// The table may still refresh after the leftover's deletion, which
		// would take the open menu away: open it again until the dialog
		// comes.
		for try := 0; ; try++ {
			eval[chromedp.Void](b, rowJS("build-012")+`.querySelector("details.row-menu summary").click()`)
			b.clickIn("build-012", `button[aria-label^="Delete"]`)
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) && !eval[bool](b, `document.getElementById("modal").open`) {
				time.Sleep(100 * time.Millisecond)
			}
			if eval[bool](b, `document.getElementById("modal").open`) || try == 3 {
				break
			}
		}
		b.waitDialog("the delete confirmation")
		b.do(chromedp.Click(chromedp.CSS(`#modal button.danger[type=submit]`)))
		b.waitModalClosed("the confirmation to close")
		b.until("the row to go", `!`+rowJS("build-012"))
		b.until("focus on a neighbour", `(() => { const a = document.activeElement; return a && a !== document.body && a.isConnected && !!a.closest("#image-list tr"); })()`)
		build("build-012")
	}
	if len(problems) > 0 {
		t.Fatalf("%d problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	b.noScriptErrors("polish")
}
