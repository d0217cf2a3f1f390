package manager

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samples = "../../../shared/data/image-definitions"

func TestLoadSamples(t *testing.T) {
	cat, err := Load(samples, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !cat.Directory || len(cat.Files) != 5 {
		t.Fatalf("files: %v", cat.Files)
	}
	byName := map[string]Definition{}
	for _, d := range cat.Definitions {
		byName[d.Name] = d
	}
	if len(byName) != 19 {
		t.Errorf("%d definitions", len(byName))
	}
	cirros := byName["Cirros"]
	if cirros.Multi || !cirros.Enable || cirros.MinRAM != 64 || cirros.Separator != " " || len(cirros.Versions) != 2 ||
		cirros.Versions[1].BuildDate != "2024-09-26" || cirros.Meta["uuid_validity"] != "none" ||
		!strings.HasPrefix(cirros.Versions[0].Checksum, "sha256:07e44a") {
		t.Errorf("Cirros: %+v", cirros)
	}
	deb := byName["Debian 12"]
	if v := deb.Versions[0]; v.Version != "20260124" || !strings.HasPrefix(v.MirrorURL, "https://nbg1.") ||
		v.fetchURL() != v.MirrorURL || !strings.HasPrefix(v.Checksum, "sha512:") {
		t.Errorf("Debian 12: %+v", deb.Versions[0])
	}
	if byName["Flatcar Container Linux"].Enable {
		t.Error("Flatcar is disabled in the sample")
	}
}

func TestLoadSingleFile(t *testing.T) {
	cat, err := Load(filepath.Join(samples, "cirros.yml"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cat.Directory || len(cat.Definitions) != 1 {
		t.Fatalf("%+v", cat)
	}
}

// TestLoadProblems checks that each kind of mistake is reported with its
// file, line and key, and that all of them are reported at once.
func TestLoadProblems(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(samples, "cirros.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to string
		want           string // file:line: key: message (prefix)
	}{
		{"enum", "os_distro: cirros", "os_distro: cirrus", `:21:18: images[0].meta.os_distro: "cirrus" is not one of: arch,`},
		{"missing", "    login: cirros\n", "", `:4:5: images[0].login: is required but missing`},
		{"unknown key", "      hw_rng_model: virtio\n", "      hw_rng_model: virtio\n      hw_qemu_guest_agent: 'yes'\n",
			`:18:7: images[0].meta.hw_qemu_guest_agent: is not a key the schema knows`},
		{"unquoted version", "version: '0.6.2'", "version: 0.6", `:28:18: images[0].versions[0].version: must be a string, not a number "0.6" (write '0.6' in quotes)`},
		{"int", "min_ram: 64", "min_ram: -1", `:10:14: images[0].min_ram: must be an integer >= 0, not -1`},
		{"bool", "multi: false", "multi: maybe", `:13:12: images[0].multi: must be a boolean, not a string "maybe"`},
		{"checksum", `"sha256:07e44a73`, `"sha256:XYZ44a73`, `:30:19: images[0].versions[0].checksum: "sha256:XYZ44a73`},
		{"checksum length", `"sha256:07e44a73e54c94d988028515403c1ed762055e01b83a767edf3c2b387f78ce00"`,
			`"sha512:07e44a73e54c94d988028515403c1ed762055e01b83a767edf3c2b387f78ce00"`,
			`:30:19: images[0].versions[0].checksum: a sha512 digest has 128 hex digits, not 64`},
		{"duplicate version", "version: '0.6.3'", "version: '0.6.2'", `:32:18: images[0].versions[1].version: "0.6.2" is also versions[0]`},
		{"url", "url: https://github.com/cirros-dev/cirros/releases/download/0.6.2/", "url: gopher://x/",
			`:29:14: images[0].versions[0].url: "gopher://x/cirros-0.6.2-x86_64-disk.img" is not a valid URL`},
		{"date", "build_date: 2023-05-30", "build_date: yesterday", `:31:21: images[0].versions[0].build_date: must be a date or a timestamp, not a string "yesterday"`},
		{"uuid_validity", "uuid_validity: none", "uuid_validity: last-three", `:24:22: images[0].meta.uuid_validity: "last-three": last- must be followed by a number`},
		{"latest on non-multi", "version: '0.6.3'", "version: latest", `:32:18: images[0].versions[1].version: version latest needs multi: true`},
		{"not a list", "tags: []", "tags: linux", `:26:11: images[0].tags: must be a list, not a string`},
		// YAML syntax errors name the line of the part the YAML library
		// was reading (its parser counts from 0 and named the line
		// before); for the tab, the scalar it breaks.
		{"yaml syntax", "    tags: []\n", "    tags: [\n", `:28: not valid YAML: did not find expected node content`},
		{"yaml flow", "    tags: []\n", "    tags: [a, b\n    tags2: x\n", `:26: not valid YAML: did not find expected ',' or ']'`},
		{"yaml tab", "    login: cirros\n", "    login: cirros\n\tx: 1\n", `:7: not valid YAML: found a tab character`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := string(base)
			if !strings.Contains(text, c.from) {
				t.Fatalf("sample lacks %q", c.from)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "cirros.yml")
			os.WriteFile(file, []byte(strings.Replace(text, c.from, c.to, 1)), 0o600)
			_, err := Load(dir, LoadOptions{})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load: %v", err)
			}
			for _, p := range ve.Problems {
				if strings.HasPrefix(p.String(), file+c.want) {
					return
				}
			}
			t.Errorf("no problem %q in:\n%v", file+c.want, err)
		})
	}
}

func TestLoadDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(samples, "cirros.yml"))
	os.WriteFile(filepath.Join(dir, "a.yml"), base, 0o600)
	os.WriteFile(filepath.Join(dir, "b.yaml"), base, 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not yaml: ["), 0o600)
	_, err := Load(dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `b.yaml:4: name: "Cirros" is already defined at `+filepath.Join(dir, "a.yml")+":4") {
		t.Fatalf("%v", err)
	}
}

func TestLoadNoCheck(t *testing.T) {
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(samples, "cirros.yml"))
	text := strings.Replace(string(base), "      hw_rng_model: virtio\n", "      hw_rng_model: virtio\n      hw_qemu_guest_agent: yes\n", 1)
	os.WriteFile(filepath.Join(dir, "c.yml"), []byte(text), 0o600)
	if _, err := Load(dir, LoadOptions{}); err == nil {
		t.Fatal("unknown key accepted")
	}
	cat, err := Load(dir, LoadOptions{NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	// PyYAML reads an unquoted yes as True, and the tool writes str(True).
	if got := cat.Definitions[0].Meta["hw_qemu_guest_agent"]; got != "True" {
		t.Errorf("hw_qemu_guest_agent = %q", got)
	}
}

func TestLoadOverlappingNames(t *testing.T) {
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(samples, "cirros.yml"))
	os.WriteFile(filepath.Join(dir, "a.yml"), base, 0o600)
	// A multi definition called "Cirros 0.6.3" would own the non-multi
	// Cirros's image of version 0.6.3.
	other := strings.Replace(strings.Replace(string(base), "name: Cirros", "name: Cirros 0.6.3", 1), "multi: false", "multi: true", 1)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte(other), 0o600)
	_, err := Load(dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `b.yml:4: name: its image "Cirros 0.6.3" is also an image of "Cirros"`) {
		t.Fatalf("%v", err)
	}
}
