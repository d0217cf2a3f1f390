package dashboard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Item 6: the name filter finds names by their start or by a part of
// them, as the user types, and the table says how many images the view
// holds.
func TestIssue20Search(t *testing.T) {
	t.Parallel()
	c, _ := issue20Cloud(t)
	alice := c.token("alice", "pw-alice", "demo")
	for i := 0; i < 65; i++ {
		c.createImage(alice, map[string]any{"name": fmt.Sprintf("build-%03d", i), "visibility": "private"})
	}
	b := newTab(t, c)
	b.signIn("alice", "pw-alice")
	total := `document.getElementById("image-total")?.textContent.trim()`
	rows := `document.querySelectorAll("#image-list tbody tr[id^=row-]").length`
	for _, v := range viewports {
		b.resize(v)
		b.open("/dashboard/project/images")
		// 65 builds and the three images every test cloud has.
		b.until("the total", total+` === "68 images"`)
		if n := eval[int](b, rows); n != 20 {
			t.Fatalf("the first page has %d rows", n)
		}
		b.clean("totals " + v.name)
		b.shot("i20-search-total-" + v.name)

		b.do(chromedp.SendKeys(chromedp.CSS("#flt-name"), "build-01"))
		b.until("the search results", total+` === "10 images" && `+rows+` === 10`)
		names := eval[[]string](b, `[...document.querySelectorAll("#image-list td.name a")].map(a => a.textContent.trim())`)
		for _, n := range names {
			if len(n) != 9 || n[:8] != "build-01" {
				t.Fatalf("the search for build-01 lists %q", names)
			}
		}
		if got := eval[string](b, `location.search`); !strings.Contains(got, "name=build-01") {
			t.Fatalf("the search is not in the address: %q", got)
		}
		b.clean("search " + v.name)
		b.shot("i20-search-prefix-" + v.name)

		// Case counts, as in the API's name filter.
		eval[chromedp.Void](b, `document.getElementById("flt-name").value = ""`)
		b.do(chromedp.SendKeys(chromedp.CSS("#flt-name"), "Build"))
		b.until("no results", `document.querySelector("#image-list td.empty")?.textContent.includes("No images match")`)
		if got := eval[string](b, total); got != "0 images" {
			t.Fatalf("the total for no match: %q", got)
		}
		eval[chromedp.Void](b, `document.getElementById("flt-name").value = ""`)
		b.do(chromedp.SendKeys(chromedp.CSS("#flt-name"), "c"))
		b.until("one result", total+` === "1 image" && `+rowJS("cirros-0.6.2-x86_64-disk"))

		// A substring, anywhere in the name.
		eval[chromedp.Void](b, `document.getElementById("flt-name").value = ""`)
		b.do(chromedp.SetValue(chromedp.CSS("#flt-match"), "contains"), chromedp.SendKeys(chromedp.CSS("#flt-name"), "-02"))
		b.until("the substring results", total+` === "10 images" && `+rows+` === 10 && `+rowJS("build-029"))
		eval[chromedp.Void](b, `document.getElementById("flt-name").value = ""`)
		b.do(chromedp.SendKeys(chromedp.CSS("#flt-name"), "x86"))
		b.until("the substring in the middle", total+` === "1 image" && `+rowJS("cirros-0.6.2-x86_64-disk"))
		b.clean("substring search " + v.name)
		b.shot("i20-search-contains-" + v.name)
	}
	b.noScriptErrors("search")
}
