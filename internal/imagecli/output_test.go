package imagecli

import (
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/imageclient"
)

func TestEscapeText(t *testing.T) {
	for in, want := range map[string]string{
		"plain é 日本":        "plain é 日本",
		"a\x1b[2Jb":         `a\x1b[2Jb`,
		"line\nbreak\ttab":  `line\nbreak\ttab`,
		"del\x7f c1\u009b":  `del\x7f c1\u009b`,
		"bidi\u202egnp.exe": `bidi\u202egnp.exe`,
		"bad\xffutf8":       `bad\xffutf8`,
	} {
		if got := imageclient.EscapeText(in); got != want {
			t.Errorf("imageclient.EscapeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFormats pins each format's text to what cliff prints for the same
// data (compared with openstackclient 6.0 from Debian against a glint).
func TestFormats(t *testing.T) {
	names := []string{"ID", "Name", "Size", "Protected", "Tags"}
	rows := func() [][]any {
		return [][]any{
			{"id-1", `it's "x" <&>`, float64(1024), false, listColumn{"b", "a"}},
			{"id-2", "é", nil, true, listColumn{}},
		}
	}
	for _, tc := range []struct {
		o    output
		want string
	}{
		{output{format: "table"}, `+------+--------------+------+-----------+------+
| ID   | Name         | Size | Protected | Tags |
+------+--------------+------+-----------+------+
| id-1 | it's "x" <&> | 1024 | False     | a, b |
| id-2 | é            | None | True      |      |
+------+--------------+------+-----------+------+
`},
		{output{format: "value"}, "id-1 it's \"x\" <&> 1024 False ['b', 'a']\nid-2 é None True []\n"},
		{output{format: "csv", quote: "nonnumeric"}, `"ID","Name","Size","Protected","Tags"
"id-1","it's ""x"" <&>",1024,False,"['b', 'a']"
"id-2","é","",True,"[]"
`},
		{output{format: "json"}, `[
  {
    "ID": "id-1",
    "Name": "it's \"x\" <&>",
    "Size": 1024,
    "Protected": false,
    "Tags": [
      "b",
      "a"
    ]
  },
  {
    "ID": "id-2",
    "Name": "\u00e9",
    "Size": null,
    "Protected": true,
    "Tags": []
  }
]
`},
		{output{format: "json", noIndent: true, columns: []string{"tags", "id"}},
			`[{"ID": "id-1", "Tags": ["b", "a"]}, {"ID": "id-2", "Tags": []}]` + "\n"},
		{output{format: "yaml", columns: []string{"Name", "Size", "Tags"}}, `- Name: it's "x" <&>
  Size: 1024
  Tags:
  - b
  - a
- Name: é
  Size: null
  Tags: []
`},
	} {
		var b strings.Builder
		if err := tc.o.list(&b, names, rows()); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("-f %s -c %v:\n%s\nwant:\n%s", tc.o.format, tc.o.columns, b.String(), tc.want)
		}
	}
}

func TestShowOne(t *testing.T) {
	rec := record{"id": "x", "name": "n", "size": float64(3 << 30), "tags": []any{"t"}, "self": "/v2/images/x",
		"virtual_size": nil, "os_hash_algo": "sha512", "hw_disk_bus": "scsi", "protected": false}
	fields, values := formatImage(rec, true)
	var b strings.Builder
	if err := (&output{format: "table"}).one(&b, fields, values); err != nil {
		t.Fatal(err)
	}
	want := `+------------+-------------------------------------------+
| Field      | Value                                     |
+------------+-------------------------------------------+
| id         | x                                         |
| name       | n                                         |
| properties | hw_disk_bus='scsi', os_hash_algo='sha512' |
| protected  | False                                     |
| size       | 3G                                        |
| tags       | t                                         |
+------------+-------------------------------------------+
`
	if b.String() != want {
		t.Errorf("show table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	(&output{format: "yaml", columns: []string{"properties", "created_at"}}).one(&b, fields, values)
	if got := b.String(); got != "properties:\n  hw_disk_bus: scsi\n  os_hash_algo: sha512\n" {
		t.Errorf("show yaml -c properties: %q", got)
	}
}

func TestCSVQuoteModes(t *testing.T) {
	rows := [][]any{{"a,b", float64(1), nil}}
	for mode, want := range map[string]string{
		"all":     `"x","y","z"` + "\n" + `"a,b","1",""` + "\n",
		"minimal": "x,y,z\n\"a,b\",1,\n",
		"none":    "x,y,z\na\\,b,1,\n",
	} {
		var b strings.Builder
		o := output{format: "csv", quote: mode}
		o.list(&b, []string{"x", "y", "z"}, rows)
		if b.String() != want {
			t.Errorf("--quote %s: %q, want %q", mode, b.String(), want)
		}
	}
}
