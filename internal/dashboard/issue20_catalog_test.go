package dashboard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// exampleNamespace is a namespace definition in Glance's file format.
const exampleNamespace = `{
    "namespace": "Example::Backup",
    "display_name": "Example Backup",
    "description": "How the backup service treats an image.",
    "visibility": "public",
    "protected": false,
    "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "backup_"}, {"name": "OS::Cinder::Volume", "prefix": "backup_", "properties_target": "image"}],
    "properties": {
        "policy": {"title": "Backup Policy", "description": "When the image is backed up.", "type": "string", "enum": ["daily", "weekly", "never"]},
        "window": {"title": "Backup Window", "description": "Hour of the day (0-23) when backups start.", "type": "integer", "minimum": 0, "maximum": 23}
    },
    "objects": [{"name": "Retention", "description": "How long backups are kept.", "properties": {"days": {"title": "Days Kept", "type": "integer", "minimum": 1}}}],
    "tags": [{"name": "backed-up"}, {"name": "no-backup"}]
}`

// nsRowJS finds a namespace's row in the list by its namespace name.
func nsRowJS(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#namespace-list tbody tr")].find(r => r.querySelector("td.ns-name .mono")?.textContent.trim() === %q)`, name)
}

// Item 7: Admin → Metadata Definitions lists the namespaces with their
// resource types, imports one from a Glance file, shows its properties,
// objects and tags, edits, protects, unprotects and deletes it; the
// image editor's advice explains a pattern in words.
func TestIssue20MetadataDefinitions(t *testing.T) {
	t.Parallel()
	c, ids := issue20Cloud(t)
	b := newTab(t, c)
	file := filepath.Join(t.TempDir(), "example-backup.json")
	if err := os.WriteFile(file, []byte(exampleNamespace), 0o600); err != nil {
		t.Fatal(err)
	}
	var problems []string
	fits := func(where, sel string) {
		for _, p := range b.fits(sel) {
			problems = append(problems, where+": "+p)
		}
	}
	b.signIn("admin", adminPassword)
	for i, v := range viewports {
		b.resize(v)
		b.open("/dashboard/admin/metadefs")
		b.until("the shipped namespaces", nsRowJS("SCS::Image::Metadata"))
		if got := eval[string](b, nsRowJS("SCS::Image::Metadata")+`.querySelector("td.ns-types").textContent`); !strings.Contains(got, "OS::Glance::Image") {
			t.Fatalf("the SCS namespace's resource types: %q", got)
		}
		fits("the namespace list at "+v.name, "#namespace-list td.actions button, #namespace-list td.ns-name a")
		b.clean("namespace list " + v.name)
		b.shot("i20-metadefs-list-" + v.name)

		if i == 0 {
			// Import from a file; the same again is refused in words.
			b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/admin/metadefs/new"]`)))
			b.waitDialog("the import dialog")
			b.clean("import dialog")
			b.shot("i20-metadefs-import")
			b.do(chromedp.SetUploadFiles(chromedp.CSS("#ns-file"), []string{file}), chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
			b.waitModalClosed("the import dialog to close")
			b.until("the imported row", nsRowJS("Example::Backup"))
			b.do(chromedp.Click(chromedp.CSS(`button[hx-get="/dashboard/admin/metadefs/new"]`)))
			b.waitDialog("the import dialog again")
			b.do(chromedp.SetUploadFiles(chromedp.CSS("#ns-file"), []string{file}), chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
			b.until("the duplicate refusal", `document.getElementById("import-error")?.textContent.includes("already exists")`)
			b.do(chromedp.SendKeys(chromedp.CSS("#ns-json"), `{"namespace": "Broken",`))
			eval[chromedp.Void](b, `document.getElementById("ns-file").value = ""`)
			b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
			b.until("the JSON refusal", `document.getElementById("import-error")?.textContent.includes("not valid JSON")`)
			b.clean("import refusals")
			b.shot("i20-metadefs-import-refused")
			b.closeModal()
		}
		b.until("the imported row", nsRowJS("Example::Backup"))
		if got := eval[string](b, nsRowJS("Example::Backup")+`.querySelector("td.ns-types").textContent`); !strings.Contains(got, "OS::Glance::Image") || !strings.Contains(got, "OS::Cinder::Volume") {
			t.Fatalf("the imported namespace's resource types: %q", got)
		}

		// The namespace's page: properties, objects, tags.
		b.open("/dashboard/admin/metadefs/Example::Backup")
		b.until("the namespace page", `document.querySelector("h1")?.textContent.includes("Example Backup")`)
		text := eval[string](b, `document.getElementById("main").innerText`)
		for _, want := range []string{"Backup Policy", "one of daily, weekly, never", "Backup Window", "at least 0; at most 23",
			"Object: Retention", "Days Kept", "backed-up", "no-backup", "backup_", "OS::Cinder::Volume"} {
			if !strings.Contains(text, want) {
				t.Fatalf("the namespace page at %s lacks %q:\n%s", v.name, want, text)
			}
		}
		fits("the namespace page at "+v.name, ".head-actions button, table.definitions td")
		b.clean("namespace page " + v.name)
		b.shot("i20-metadefs-namespace-" + v.name)
	}

	// Edit on the page, then protect and unprotect from the list.
	b.resize(viewports[0])
	b.do(chromedp.Click(chromedp.CSS(`.head-actions button[hx-get$="/edit"]`)))
	b.waitDialog("the edit dialog")
	b.do(chromedp.SetValue(chromedp.CSS("#ns-display"), "Example Backups"), chromedp.Click(chromedp.CSS(`#modal button[type=submit]`)))
	b.waitModalClosed("the edit dialog to close")
	b.until("the new title", `document.querySelector("h1")?.textContent.includes("Example Backups")`)
	var ns map[string]any
	c.json("GET", "/v2/metadefs/namespaces/Example::Backup", c.adminToken, nil, 200, &ns)
	if ns["display_name"] != "Example Backups" || ns["visibility"] != "public" {
		t.Fatalf("after editing: %v", ns)
	}
	b.open("/dashboard/admin/metadefs")
	eval[chromedp.Void](b, nsRowJS("Example::Backup")+`.querySelector('button[aria-label^="Protect"]').click()`)
	b.until("the unprotect button", nsRowJS("Example::Backup")+`?.querySelector('button[aria-label^="Unprotect"]')`)
	if eval[bool](b, `!!`+nsRowJS("Example::Backup")+`.querySelector('button[aria-label^="Delete"]')`) {
		t.Fatal("a protected namespace offers Delete")
	}
	if status, _ := c.do("DELETE", "/v2/metadefs/namespaces/Example::Backup", c.adminToken, nil, nil); status != 403 {
		t.Fatalf("deleting a protected namespace: %d", status)
	}
	b.clean("protected namespace")
	b.shot("i20-metadefs-protected")
	eval[chromedp.Void](b, nsRowJS("Example::Backup")+`.querySelector('button[aria-label^="Unprotect"]').click()`)
	b.until("the delete button", nsRowJS("Example::Backup")+`?.querySelector('button[aria-label^="Delete"]')`)

	// Delete asks first.
	eval[chromedp.Void](b, nsRowJS("Example::Backup")+`.querySelector('button[aria-label^="Delete"]').click()`)
	b.waitDialog("the delete confirmation")
	if got := eval[string](b, `document.activeElement.textContent`); got != "Cancel" {
		t.Fatalf("the confirmation focuses %q, want Cancel", got)
	}
	b.shot("i20-metadefs-delete")
	b.do(chromedp.Click(chromedp.CSS(`#modal button.danger[type=submit]`)))
	b.waitModalClosed("the confirmation to close")
	b.until("the row to go", `!`+nsRowJS("Example::Backup"))
	if status, _ := c.do("GET", "/v2/metadefs/namespaces/Example::Backup", c.adminToken, nil, nil); status != 404 {
		t.Fatalf("after deleting: %d", status)
	}

	// The editor's advice on a value against a pattern is in words.
	alice := c.token("alice", "pw-alice", "demo")
	id := ids["cirros-0.6.2-x86_64-disk"]
	c.json("PATCH", "/v2/images/"+id, alice, []map[string]any{{"op": "add", "path": "/image_build_date", "value": "06.05.2024"}}, 200, nil)
	b.signOut()
	b.signIn("alice", "pw-alice")
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		b.openIn("cirros-0.6.2-x86_64-disk", `button[hx-get$="/edit"]`, "the edit dialog")
		b.waitDialog("the edit dialog")
		b.do(chromedp.Click(chromedp.CSS(`#modal button[type=submit].primary`)))
		b.until("the advice", `document.querySelector("#modal .notice")?.textContent.includes("image_build_date")`)
		advice := eval[string](b, `document.querySelector("#modal .notice").textContent`)
		if !strings.Contains(advice, "is not in the expected form: Cut-off date") || strings.ContainsAny(advice, "^$[]{}") {
			t.Fatalf("the advice shows %q", advice)
		}
		eval[chromedp.Void](b, `document.querySelector("#modal .notice").scrollIntoView()`)
		b.clean("catalog advice " + v.name)
		b.shot("i20-metadefs-advice-" + v.name)
		b.closeModal()
	}
	if len(problems) > 0 {
		t.Fatalf("%d layout problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	b.noScriptErrors("metadata definitions")
}

// waitDialog waits for a dialog to open and htmx to have taken over its
// content (the dialog focuses a control after that): a click before then
// would submit its form without htmx.
func (b *tab) waitDialog(what string) {
	b.t.Helper()
	b.waitModal(what)
	b.until(what+" to take focus", `document.getElementById("modal").contains(document.activeElement) &&
		[...document.querySelectorAll("#modal form[hx-post]")].every(f => f["htmx-internal-data"] && f["htmx-internal-data"].listenerInfos)`)
}
