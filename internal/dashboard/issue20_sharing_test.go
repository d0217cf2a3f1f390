package dashboard_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Item 5: sharing a private image is offered (switch it to Shared), a
// mistyped project is refused, a name resolves, the consumer sees the
// owner's project name and a count of shares waiting for an answer.
func TestIssue20Sharing(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	alice := c.token("alice", "pw-alice", "demo")
	b := newTab(t, c)
	b.signIn("alice", "pw-alice")
	for _, v := range viewports {
		name := "private-" + v.name
		img := c.createImage(alice, map[string]any{"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "private"})
		id := img["id"].(string)
		c.upload(alice, id, []byte("private data"))
		b.resize(v)
		b.open("/dashboard/project/images")
		b.until("the private row", rowJS(name)+`?.dataset.status === "active"`)
		eval[chromedp.Void](b, rowJS(name)+`.querySelector("details.row-menu summary").click()`)
		b.openIn(name, `button[aria-label^="Sharing"]`, "the sharing dialog of a private image")
		b.waitDialog("the sharing dialog of a private image")
		b.until("the offer to switch", `[...document.querySelectorAll("#modal button")].some(x => x.textContent === "Switch to Shared")`)
		b.clean("sharing a private image " + v.name)
		b.shot("i20-share-private-" + v.name)
		eval[chromedp.Void](b, `[...document.querySelectorAll("#modal button")].find(x => x.textContent === "Switch to Shared").click()`)
		b.until("the member form", `!!document.getElementById("member-add")`)
		if got, _ := c.image(alice, id); got["visibility"] != "shared" {
			t.Fatalf("after switching: visibility %v", got["visibility"])
		}
		// A mistyped project name is refused, and nothing is stored.
		b.do(chromedp.SendKeys(chromedp.CSS("#member-add"), "partnr"), chromedp.Click(chromedp.CSS(`#members-dialog button[type=submit].primary`)))
		b.until("the refusal", `document.getElementById("member-error")?.textContent.includes("There is no project “partnr”")`)
		var members struct{ Members []map[string]any }
		c.json("GET", "/v2/images/"+id+"/members", alice, nil, 200, &members)
		if len(members.Members) != 0 {
			t.Fatalf("a mistyped project became a member: %v", members.Members)
		}
		b.clean("mistyped project " + v.name)
		b.shot("i20-share-mistyped-" + v.name)
		// The name resolves to the project's id.
		b.do(chromedp.SetValue(chromedp.CSS("#member-add"), "partner"), chromedp.Click(chromedp.CSS(`#members-dialog button[type=submit].primary`)))
		b.until("the member row", `[...document.querySelectorAll("#members-dialog tbody td")].some(td => td.textContent.includes("partner") && td.textContent.includes(`+fmt.Sprintf("%q", c.projects["partner"])+`))`)
		c.json("GET", "/v2/images/"+id+"/members", alice, nil, 200, &members)
		if len(members.Members) != 1 || members.Members[0]["member_id"] != c.projects["partner"] {
			t.Fatalf("members after sharing with partner: %v", members.Members)
		}
		b.clean("shared with partner " + v.name)
		b.shot("i20-share-added-" + v.name)
		b.closeModal()
	}
	b.signOut()
	b.signIn("bob", "pw-bob")
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		// Four shares wait: the ubuntu image and the three private ones.
		b.until("the pending count", `document.querySelector(".tabs .badge")?.textContent.startsWith("4")`)
		b.open("/dashboard/project/images?tab=shared")
		b.until("the shared rows", rowJS("private-"+v.name))
		if owner := eval[string](b, rowJS("private-"+v.name)+`.querySelector("td.owner").textContent.trim()`); owner != "demo" {
			t.Fatalf("the consumer sees the owner as %q, want the project name demo", owner)
		}
		b.until("the pending count", `document.querySelector(".tabs .badge")?.textContent.startsWith("4")`)
		b.clean("shared with me " + v.name)
		b.shot("i20-share-consumer-" + v.name)
	}
	b.resize(viewports[0])
	b.clickIn("private-1280x800", `button[aria-label^="Accept"]`)
	b.until("the count to drop", `document.querySelector(".tabs .badge")?.textContent.startsWith("3")`)
	b.noScriptErrors("sharing")
}

// Item 5 with Keystone, where a member may not look projects up: the
// share goes ahead and says the id was not checked; an admin, who may,
// is refused a project that does not exist.
func TestIssue20SharingKeystone(t *testing.T) {
	t.Parallel()
	ks := newCloud(t)
	ks.addUser("alice", "demo")
	ks.addProject("partner")
	c := keystoneGlint(t, ks)
	b := c.browser()
	b.signIn("alice", "pw-alice")
	alice := ks.token("alice", "pw-alice", "demo")
	img := c.createImage(alice, map[string]any{"name": "via-keystone", "visibility": "shared"})
	id := img["id"].(string)
	p := b.hx("POST", "/dashboard/images/"+id+"/members", url.Values{"member": {ks.projects["partner"]}}, "modal-content")
	if p.status != 200 || !strings.Contains(p.body, "The project ID was not checked") {
		t.Fatalf("a member's share at Keystone: %d %s", p.status, p.body)
	}
	admin := c.browser()
	admin.signIn("admin", adminPassword)
	mine := c.createImage(ks.adminToken, map[string]any{"name": "admins", "visibility": "shared"})
	p = admin.hx("POST", "/dashboard/images/"+mine["id"].(string)+"/members", url.Values{"member": {"no-such-project"}}, "modal-content")
	if p.status != 422 || !strings.Contains(p.body, "There is no project") {
		t.Fatalf("an admin's share with an unknown project: %d %s", p.status, p.body)
	}
	p = admin.hx("POST", "/dashboard/images/"+mine["id"].(string)+"/members", url.Values{"member": {"partner"}}, "modal-content")
	if p.status != 200 || !strings.Contains(p.body, "Shared with partner.") || strings.Contains(p.body, "not checked") {
		t.Fatalf("an admin's share by name: %d %s", p.status, p.body)
	}
}
