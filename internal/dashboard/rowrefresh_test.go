package dashboard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRowRefreshKeepsMenu: a queued image's row asks for itself every
// 2 s, and the list refreshes itself after a save or an upload. Neither
// may close the actions menu the user has open, untick the boxes ticked
// for deletion, or take focus away; a row held back while its menu was
// open refreshes once the menu closes.
func TestRowRefreshKeepsMenu(t *testing.T) {
	t.Parallel()
	c := newProcessCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	waiting := c.createImage(alice, map[string]any{"name": "waiting", "disk_format": "raw", "container_format": "bare", "visibility": "shared"})["id"].(string)
	ready := c.createImage(alice, map[string]any{"name": "ready", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	c.upload(alice, ready, []byte(strings.Repeat("r", 4096)))

	b := newTab(t, c)
	b.signIn("alice", "pw-alice")
	b.open("/dashboard/project/images")
	row := fmt.Sprintf(`document.getElementById("row-%s")`, waiting)
	readyRow := fmt.Sprintf(`document.getElementById("row-%s")`, ready)
	b.until("the polling row of the queued image", row+`?.dataset.status === "queued" && `+row+`.hasAttribute("hx-get")`)
	if eval[bool](b, readyRow+`.hasAttribute("hx-get")`) {
		t.Fatal("the active image's row polls; the list-refresh part below needs a row that does not")
	}
	// Count the answers to the row's polls (before the page decides what
	// to do with them) and the list's refreshes.
	eval[chromedp.Void](b, `window.__rowAnswers = 0; window.__listAnswers = 0;
		document.addEventListener("htmx:beforeSwap", e => {
			const id = e.detail.target && e.detail.target.id;
			if (id === "row-`+waiting+`") window.__rowAnswers++;
			if (id === "image-list") window.__listAnswers++;
		}, true)`)

	// Tick the row for deletion and open its menu, as a mouse would.
	b.do(
		chromedp.Click(chromedp.CSS(`#row-`+waiting+` input[name="id"]`)),
		chromedp.Click(chromedp.CSS(`#row-`+waiting+` details.row-menu summary`)),
	)
	b.until("the menu to open", row+`.querySelector("details.row-menu").open`)
	eval[chromedp.Void](b, `void (window.__heldRow = `+row+`)`)
	// Something in the row changes meanwhile, so a refresh has news.
	c.json("PATCH", "/v2/images/"+waiting, alice, []map[string]any{{"op": "replace", "path": "/visibility", "value": "private"}}, 200, nil)
	before := eval[int](b, `window.__rowAnswers`)
	b.until("two more answers to the row's polls", fmt.Sprintf(`window.__rowAnswers >= %d`, before+2))

	state := func() map[string]any {
		return eval[map[string]any](b, `(() => {
			const r = `+row+`, a = document.activeElement;
			return {
				same: r === window.__heldRow,
				open: !!r && r.querySelector("details.row-menu").open,
				ticked: !!r && r.querySelector('input[name="id"]').checked,
				button: document.querySelector("[data-delete-selected]").textContent.trim(),
				focus: a ? (a.getAttribute("aria-label") || a.tagName) : "",
				visibility: !!r && r.querySelector('td[data-label="Visibility"]').textContent.trim(),
			};
		})()`)
	}
	s := state()
	b.shot("row-refresh-menu-open")
	if s["open"] != true || s["same"] != true {
		t.Fatalf("the row's refresh closed its open menu: %v", s)
	}
	if s["ticked"] != true || s["button"] != "Delete selected (1)" {
		t.Fatalf("the selection did not survive the refresh: %v", s)
	}
	if s["focus"] != "More actions for waiting" {
		t.Fatalf("focus left the menu: %v", s)
	}

	// Closed (Escape, as a keyboard user would), the row catches up at
	// once, and keeps its tick and the focus.
	b.do(chromedp.KeyEvent("\x1b"))
	b.until("the held row to refresh", row+` && `+row+` !== window.__heldRow && `+row+`.querySelector('td[data-label="Visibility"]').textContent.trim() === "Private"`)
	b.until("htmx to settle", `!document.querySelector(".htmx-settling")`)
	s = state()
	if s["open"] != false || s["ticked"] != true || s["button"] != "Delete selected (1)" {
		t.Fatalf("after the refresh that waited for the menu: %v", s)
	}
	if s["focus"] != "More actions for waiting" {
		t.Fatalf("focus did not stay on the menu's button through the refresh: %v", s)
	}

	// A later poll with the menu closed keeps the tick too.
	eval[chromedp.Void](b, `void (window.__heldRow = `+row+`)`)
	before = eval[int](b, `window.__rowAnswers`)
	b.until("another answer to the row's poll", fmt.Sprintf(`window.__rowAnswers >= %d && %s !== window.__heldRow`, before+1, row))
	if s = state(); s["ticked"] != true || s["button"] != "Delete selected (1)" {
		t.Fatalf("a poll with the menu closed lost the selection: %v", s)
	}

	// The whole list refreshes (as after an upload somewhere) while the
	// menu of a row that does not poll is open: it stays open.
	b.do(chromedp.Click(chromedp.CSS(`#row-` + ready + ` details.row-menu summary`)))
	b.until("the other menu to open", readyRow+`.querySelector("details.row-menu").open`)
	eval[chromedp.Void](b, `window.__oldList = document.getElementById("image-list"); htmx.trigger(document.body, "glint-refresh"); undefined`)
	b.until("the list to refresh", `document.getElementById("image-list") !== window.__oldList && window.__listAnswers > 0`)
	b.until("htmx to settle", `!document.querySelector(".htmx-settling")`)
	list := eval[map[string]any](b, `({
		open: `+readyRow+`.querySelector("details.row-menu").open,
		ticked: `+row+`.querySelector('input[name="id"]').checked,
		focus: document.activeElement ? document.activeElement.getAttribute("aria-label") : "",
	})`)
	if list["open"] != true || list["ticked"] != true || list["focus"] != "More actions for ready" {
		t.Fatalf("the list's refresh lost what the user was doing: %v", list)
	}
	b.do(chromedp.KeyEvent("\x1b"))

	// An item of a held row's menu still works: Upload data opens its
	// dialog after a poll came and went.
	b.do(chromedp.Click(chromedp.CSS(`#row-` + waiting + ` details.row-menu summary`)))
	b.until("the menu to open", row+`.querySelector("details.row-menu").open`)
	before = eval[int](b, `window.__rowAnswers`)
	b.until("an answer to the row's poll", fmt.Sprintf(`window.__rowAnswers > %d`, before))
	b.do(chromedp.Click(chromedp.CSS(`#row-` + waiting + ` button[aria-label="Upload data of waiting"]`)))
	b.waitModal("the upload dialog")
	b.until("the upload form", `!!document.querySelector("#modal [data-upload-form]")`)
	b.clean("upload dialog from a held row")
	b.closeModal()
	b.noScriptErrors("row refreshes")
}
