package metadef_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/metadef"
)

func shippedImageCatalog(t *testing.T) *metadef.Catalog {
	t.Helper()
	defs, err := metadef.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	c, err := metadef.NewCatalog(metadef.ResourceTypeImage, defs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogCheck(t *testing.T) {
	c := shippedImageCatalog(t)
	// Names as they are set on images: prefixes applied, flavor-only
	// namespaces left out.
	for _, name := range []string{"hw_disk_bus", "hw_watchdog_action", "hw_cpu_policy", "hw_firmware_type", "os_distro", "image_build_date"} {
		if !c.Defines(name) {
			t.Errorf("the image catalog lacks %s", name)
		}
	}
	for _, name := range []string{"watchdog_action", "hw:watchdog_action", "hw_rng:allowed", "made_up"} {
		if c.Defines(name) {
			t.Errorf("the image catalog defines %s", name)
		}
	}

	good := map[string]string{
		"hw_disk_bus":               "scsi",
		"hw_scsi_model":             "virtio-scsi",
		"hw_watchdog_action":        "reset",
		"hw_vif_multiqueue_enabled": "True", // as the OSISM image manager writes booleans
		"hw_qemu_guest_agent":       "yes",
		"hw_video_ram":              "64",
		"hw_cpu_policy":             "dedicated",
		"hw_cpu_cores":              "4",
		"hypervisor_type":           "qemu",
		"os_distro":                 "debian",
		"image_build_date":          "2024-05-06",
		"uuid_validity":             "last-3",
		"provided_until":            "none",
		"hotfix_hours":              "0",
		"replace_frequency":         "monthly",
		"hw_tpm_version":            "2.0",
		"made_up_property":          "anything", // not defined: never a violation
	}
	if v := c.Check(good); len(v) != 0 {
		t.Errorf("valid properties: %v", v)
	}

	bad := map[string]string{
		"hw_disk_bus":               "floppy",
		"hw_vif_multiqueue_enabled": "maybe",
		"hw_video_ram":              "-1",
		"hw_cpu_cores":              "four",
		"image_build_date":          "06.05.2024",
		"uuid_validity":             "sometimes",
		"hotfix_hours":              "1.5",
		"replace_frequency":         "hourly",
	}
	got := map[string]string{}
	for _, v := range c.Check(bad) {
		got[v.Property] = v.Problem
		if v.Namespace == "" || v.Value != bad[v.Property] {
			t.Errorf("violation without its namespace or value: %+v", v)
		}
	}
	for prop, want := range map[string]string{
		"hw_disk_bus":               "must be one of scsi, virtio, uml, xen, ide, usb, fdc, sata, lxc",
		"hw_vif_multiqueue_enabled": "must be true or false",
		"hw_video_ram":              "must be at least 0",
		"hw_cpu_cores":              "must be an integer",
		"image_build_date":          "is not in the expected form: ",
		"uuid_validity":             "is not in the expected form: How long the image stays reachable",
		"hotfix_hours":              "must be an integer",
		"replace_frequency":         "must be one of yearly, quarterly",
	} {
		// A pattern is explained in words, never shown as a regular
		// expression.
		if !strings.HasPrefix(got[prop], want) || strings.ContainsAny(got[prop], "^$[]{}") {
			t.Errorf("%s=%q: problem %q, want %q", prop, bad[prop], got[prop], want)
		}
	}
	if len(got) != len(bad) {
		t.Errorf("%d violations for %d bad values: %v", len(got), len(bad), got)
	}
}

func TestCatalogTypes(t *testing.T) {
	c, err := metadef.NewCatalog("Test::Type", []*metadef.Definition{{
		Namespace:    metadef.Namespace{Name: "T"},
		Associations: []metadef.Association{{Name: "Test::Type", Prefix: ptr("x_")}},
		Properties: []metadef.Property{
			{Name: "num", Schema: json.RawMessage(`{"type":"number","title":"N","minimum":0.5,"maximum":2}`)},
			{Name: "len", Schema: json.RawMessage(`{"type":"string","title":"L","minLength":2,"maxLength":4}`)},
			{Name: "list", Schema: json.RawMessage(`{"type":"array","title":"A","items":{"type":"string","enum":["a","b","c"]},"maxItems":2,"uniqueItems":true}`)},
			{Name: "lookaround", Schema: json.RawMessage(`{"type":"string","title":"P","pattern":"^(?!x)"}`)},
		},
		Objects: []metadef.Object{{Name: "o", Properties: []metadef.Property{
			{Name: "flag", Schema: json.RawMessage(`{"type":"boolean","title":"F"}`)},
		}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ prop, value, problem string }{
		{"x_num", "1.25", ""},
		{"x_num", "0.25", "must be at least 0.5"},
		{"x_num", "3", "must be at most 2"},
		{"x_num", "abc", "must be a number"},
		{"x_len", "abc", ""},
		{"x_len", "a", "must be at least 2 characters long"},
		{"x_len", "abcde", "must be at most 4 characters long"},
		{"x_list", "a, b", ""},
		{"x_list", "<or> a <or> c", ""},
		{"x_list", "a,d", "item d must be one of a, b, c"},
		{"x_list", "a,b,c", "must have at most 2 items"},
		{"x_list", "a,a", "must not repeat a"},
		// Patterns only Python understands are not checked.
		{"x_lookaround", "xyz", ""},
		{"x_flag", "OFF", ""},
		{"x_flag", "2", "must be true or false"},
	} {
		v := c.Check(map[string]string{tc.prop: tc.value})
		switch {
		case tc.problem == "" && len(v) != 0:
			t.Errorf("%s=%q: %v", tc.prop, tc.value, v)
		case tc.problem != "" && (len(v) != 1 || v[0].Problem != tc.problem):
			t.Errorf("%s=%q: %v, want %q", tc.prop, tc.value, v, tc.problem)
		}
	}
	if c.Len() != 5 {
		t.Errorf("catalog has %d names, want 5", c.Len())
	}
}

func ptr[T any](v T) *T { return &v }
