package metadef_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// view is what a definition means, for comparing two of them: JSON
// texts compare by value, times are left out.
func view(t *testing.T, d *metadef.Definition) map[string]any {
	t.Helper()
	jsonValue := func(raw json.RawMessage) any {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return v
	}
	props := func(ps []metadef.Property) []any {
		var out []any
		for _, p := range ps {
			out = append(out, []any{p.Name, jsonValue(p.Schema)})
		}
		return out
	}
	str := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	v := map[string]any{"namespace": d.Name, "display_name": str(d.DisplayName), "description": str(d.Description),
		"visibility": d.Visibility, "protected": d.Protected, "owner": d.Owner, "properties": props(d.Properties)}
	var assocs, objs, tags []any
	for _, a := range d.Associations {
		assocs = append(assocs, []any{a.Name, str(a.Prefix), str(a.PropertiesTarget)})
	}
	for _, o := range d.Objects {
		req := o.Required
		if req == nil {
			req = []string{}
		}
		objs = append(objs, []any{o.Name, str(o.Description), req, props(o.Properties)})
	}
	for _, tg := range d.Tags {
		tags = append(tags, tg.Name)
	}
	v["associations"], v["objects"], v["tags"] = assocs, objs, tags
	return v
}

func defsOf(files []metadef.File) []*metadef.Definition {
	out := make([]*metadef.Definition, len(files))
	for i, f := range files {
		out[i] = f.Def
	}
	return out
}

// TestFilesRoundTrip loads files in Glance's format (one as Glance's
// shipped files look, one as Glance's export writes them, with nulls),
// exports the catalog and reads the export back: the definitions are
// unchanged, and property definitions are written back as they were read,
// keys Glance's model does not know included.
func TestFilesRoundTrip(t *testing.T) {
	ctx := t.Context()
	files, err := metadef.ReadFiles("testdata/glance", metadef.DefaultOwner)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("read %d files, want 3", len(files))
	}
	st := openStore(t)
	results, err := metadef.Load(ctx, st, defsOf(files), metadef.ImportCreate, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r != metadef.ImportCreated {
			t.Errorf("%s: %s", files[i].Path, r)
		}
	}
	exported, err := metadef.Export(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	written, err := metadef.WriteFiles(out, exported)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"Example-Compute-Pinning.json", "Example-Owned.json", "Example-Software-Exported.json"}
	for i, p := range written {
		if filepath.Base(p) != wantFiles[i] {
			t.Errorf("exported file %d is %s, want %s", i, filepath.Base(p), wantFiles[i])
		}
	}
	again, err := metadef.ReadFiles(out, "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*metadef.Definition{}
	for _, f := range files {
		byName[f.Def.Name] = f.Def
	}
	for _, f := range again {
		orig := byName[f.Def.Name]
		if orig == nil {
			t.Fatalf("export has an unknown namespace %s", f.Def.Name)
		}
		if got, want := view(t, f.Def), view(t, orig); !reflect.DeepEqual(got, want) {
			t.Errorf("%s after the round trip:\n got %v\nwant %v", f.Def.Name, got, want)
		}
	}

	// What the files left unset reads as Glance reads it.
	exp := byName["Example::Software::Exported"]
	if exp.Visibility != "private" || exp.Protected || exp.Owner != "admin" || exp.Description != nil ||
		exp.Associations[0].Prefix != nil || *exp.Associations[1].PropertiesTarget != "metadata" {
		t.Errorf("nulls and defaults: %+v %+v", exp.Namespace, exp.Associations)
	}
	if owned := byName["Example::Owned"]; owned.Owner != "proj-ops" || owned.Objects[0].Required[0] != "size" {
		t.Errorf("owner and required kept: %+v", owned)
	}
	data, err := os.ReadFile(filepath.Join(out, "Example-Compute-Pinning.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"x-site-note": "keys Glance's model does not know are kept in files"`)) ||
		!bytes.Contains(data, []byte(`"default": 1,`)) {
		t.Errorf("export changed a property definition:\n%s", data)
	}
	// The export is in Glance's layout, so Glance's loader reads it too.
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"namespace", "display_name", "description", "visibility", "protected", "resource_type_associations", "properties", "objects", "tags"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("export lacks %q", k)
		}
	}
}

// TestLoadModes: a second load skips, merges or replaces.
func TestLoadModes(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	load := func(doc string, mode metadef.ImportMode) metadef.ImportResult {
		t.Helper()
		d, err := metadef.ReadDefinition([]byte(doc), metadef.DefaultOwner)
		if err != nil {
			t.Fatal(err)
		}
		res, err := metadef.Load(ctx, st, []*metadef.Definition{d}, mode, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	state := func() string {
		t.Helper()
		d, err := st.GetDefinition(ctx, "M")
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		parts = append(parts, "desc="+strings.TrimSpace(fmtPtr(d.Description)))
		for _, p := range d.Properties {
			parts = append(parts, p.Name+"="+string(p.Schema))
		}
		for _, tg := range d.Tags {
			parts = append(parts, "tag:"+tg.Name)
		}
		return strings.Join(parts, " ")
	}
	v1 := `{"namespace":"M","description":"one","properties":{"a":{"type":"string","title":"A"},"b":{"type":"string","title":"B"}},"tags":[{"name":"x"}]}`
	v2 := `{"namespace":"M","description":"two","properties":{"b":{"type":"integer","title":"B2"},"c":{"type":"string","title":"C"}},"tags":[{"name":"y"}]}`
	if r := load(v1, metadef.ImportCreate); r != metadef.ImportCreated {
		t.Fatal(r)
	}
	if r := load(v2, metadef.ImportCreate); r != metadef.ImportSkipped || state() != `desc=one a={"type":"string","title":"A"} b={"type":"string","title":"B"} tag:x` {
		t.Errorf("skip: %s %s", r, state())
	}
	if r := load(v2, metadef.ImportMerge); r != metadef.ImportMerged ||
		state() != `desc=two a={"type":"string","title":"A"} b={"type":"integer","title":"B2"} c={"type":"string","title":"C"} tag:x tag:y` {
		t.Errorf("merge: %s %s", r, state())
	}
	if r := load(v2, metadef.ImportReplace); r != metadef.ImportReplaced ||
		state() != `desc=two b={"type":"integer","title":"B2"} c={"type":"string","title":"C"} tag:y` {
		t.Errorf("replace: %s %s", r, state())
	}
}

func fmtPtr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestReadFilesErrors: every bad file is named, and nothing is returned
// for loading when one is bad.
func TestReadFilesErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a-good.json", `{"namespace":"Good"}`)
	write("b-not-json.json", `{"namespace":`)
	write("c-bad-property.json", `{"namespace":"Bad","properties":{"p":{"type":"strin","title":"P"}}}`)
	write("d-same.json", `{"namespace":"Good"}`)
	write("e-slash.json", `{"namespace":"a/b"}`)
	write("f-4byte.json", `{"namespace":"Emoji","description":"\ud83d\ude93"}`)
	write("notes.txt", `not a definition`)
	_, err := metadef.ReadFiles(dir, metadef.DefaultOwner)
	if err == nil {
		t.Fatal("ReadFiles accepted bad files")
	}
	msg := err.Error()
	for _, want := range []string{
		"b-not-json.json: not valid JSON",
		"c-bad-property.json: Provided object does not match schema 'namespace': 'strin' is not one of",
		"On instance['properties']['p']['type']",
		"d-same.json: namespace Good is also defined in",
		"e-slash.json: Namespace can't contain '/'.",
		"f-4byte.json: Description can't contain 4 byte unicode characters.",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "notes.txt") || strings.Contains(msg, "a-good.json:") {
		t.Errorf("error names a file that is fine or not a definition:\n%s", msg)
	}
	if _, err := metadef.ReadFiles(filepath.Join(dir, "a-good.json"), metadef.DefaultOwner); err != nil {
		t.Errorf("one good file: %v", err)
	}
	if _, err := metadef.ReadFiles(t.TempDir(), metadef.DefaultOwner); err == nil || !strings.Contains(err.Error(), "no .json definition files") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"OS::Compute::Watchdog":  "OS-Compute-Watchdog.json",
		"SCS::Image::Metadata":   "SCS-Image-Metadata.json",
		"with space/and slash":   "with_space_and_slash.json",
		"..":                     "namespace.json",
		"Ünïcode::Name":          "n_code-Name.json",
		"simple-name_1.2":        "simple-name_1.2.json",
		"CIM::VirtualSystemData": "CIM-VirtualSystemData.json",
	} {
		if got := metadef.FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShipped: the shipped definitions parse, check, and cover what the
// issue lists, with OpenStack's property names.
func TestShipped(t *testing.T) {
	defs, err := metadef.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]map[string]bool{}
	for _, d := range defs {
		if d.Visibility != "public" || d.Owner != "admin" || d.DisplayName == nil || d.Description == nil {
			t.Errorf("%s: %+v", d.Name, d.Namespace)
		}
		props[d.Name] = map[string]bool{}
		for _, p := range d.Properties {
			props[d.Name][p.Name] = true
			pt, err := metadef.ParsePropertyType(p.Schema)
			if err != nil || pt.Title == "" || pt.Description == "" || pt.Type == "" {
				t.Errorf("%s %s: %+v %v", d.Name, p.Name, pt, err)
			}
		}
	}
	for ns, names := range map[string][]string{
		"OS::Compute::Hypervisor":            {"hypervisor_type", "vm_mode", "architecture"},
		"OS::Compute::LibvirtImage":          {"hw_disk_bus", "hw_scsi_model", "hw_rng_model", "hw_machine_type", "hw_video_model", "hw_vif_multiqueue_enabled", "hw_qemu_guest_agent"},
		"OS::Compute::Firmware":              {"hw_firmware_type", "os_secure_boot"},
		"OS::Compute::Libvirt":               {"mem_encryption", "serial_port_count"},
		"OS::Compute::Watchdog":              {"watchdog_action"},
		"OS::Compute::RandomNumberGenerator": {"hw_rng:allowed", "hw_rng:rate_bytes"},
		"OS::Compute::CPUPinning":            {"cpu_policy", "cpu_thread_policy"},
		"OS::OperatingSystem":                {"os_distro", "os_version"},
		"SCS::Image::Metadata": {"image_source", "image_description", "image_build_date", "image_original_user",
			"replace_frequency", "uuid_validity", "provided_until", "hotfix_hours", "license_included", "maintained_until"},
	} {
		for _, n := range names {
			if !props[ns][n] {
				t.Errorf("shipped %s lacks %s", ns, n)
			}
		}
	}
}
