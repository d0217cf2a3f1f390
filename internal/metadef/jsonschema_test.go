package metadef

import (
	"encoding/json"
	"strings"
	"testing"
)

// Python's renderings, as Glance's messages show them.
func TestPyRepr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`"text"`, `'text'`},
		{`"it's"`, `"it's"`},
		{`"both ' and \""`, `'both \' and "'`},
		{`"tab\there"`, `'tab\there'`},
		{`"\u0001"`, `'\x01'`},
		{`true`, `True`},
		{`null`, `None`},
		{`5`, `5`},
		{`-0`, `0`},
		{`1.50`, `1.5`},
		{`1e3`, `1000.0`},
		{`1e16`, `1e+16`},
		{`0.00001`, `1e-05`},
		{`[1, "a", null]`, `[1, 'a', None]`},
		{`{"b": 1, "a": [true]}`, `{'a': [True], 'b': 1}`},
	} {
		v, err := decodeOrdered([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := pyRepr(v); got != tc.want {
			t.Errorf("pyRepr(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := pyStr("plain"); got != "plain" {
		t.Errorf("pyStr of a string: %q", got)
	}
	if got := title("display_name"); got != "Display_Name" {
		t.Errorf("title: %q", got)
	}
	if got := title("json_schema"); got != "Json_Schema" {
		t.Errorf("title: %q", got)
	}
}

func TestDecodeOrdered(t *testing.T) {
	v, err := decodeOrdered([]byte(`{"z": 1, "a": {"y": 2, "b": 3}, "z": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*object)
	if strings.Join(o.keys, ",") != "z,a" || o.vals["z"].(json.Number) != "4" {
		t.Errorf("keys %v, z %v", o.keys, o.vals["z"])
	}
	b, _ := o.MarshalJSON()
	if string(b) != `{"z":4,"a":{"y":2,"b":3}}` {
		t.Errorf("re-encoded as %s", b)
	}
	for _, bad := range []string{``, `{`, `{"a":1}x`, `{"a":}`, strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)} {
		if _, err := decodeOrdered([]byte(bad)); err == nil {
			t.Errorf("decodeOrdered(%.20q) succeeded", bad)
		}
	}
}

// The validator reports what jsonschema's best_match reports: the error
// nearest the top of the document, first in schema order on a tie.
func TestValidateBestMatch(t *testing.T) {
	schema := namespaceSchema(requestBody)
	check := func(doc, want string) {
		t.Helper()
		v, err := decodeOrdered([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		got := validateSchema("namespace", schema, v)
		if want == "" {
			if got != nil {
				t.Errorf("%s: %v", doc, got)
			}
			return
		}
		if got == nil || !strings.HasPrefix(got.Error(), "Provided object does not match schema 'namespace': "+want) {
			t.Errorf("%s:\n got %v\nwant %s", doc, got, want)
		}
	}
	check(`{"namespace":"n"}`, "")
	// A root error beats a deeper one, whatever comes first.
	check(`{"namespace":1,"bogus":true}`, "Additional properties are not allowed ('bogus' was unexpected)")
	check(`{"visibility":"x"}`, "'namespace' is a required property")
	// Extras are listed in document order.
	check(`{"namespace":"n","b":1,"a":2}`, "Additional properties are not allowed ('b', 'a' were unexpected)")
	// Same depth: schema order (namespace comes before visibility).
	check(`{"visibility":"x","namespace":1}`, "1 is not of type 'string'")
	check(`{"namespace":"n","properties":{"p":{"type":"string","title":"t","minLength":-1}}}`,
		"-1 is less than the minimum of 0\n\nFailed validating 'minimum' in schema['properties']['properties']['additionalProperties']['properties']['minLength']['allOf'][0]\n\nOn instance['properties']['p']['minLength']:\n    -1")
	check(`{"namespace":"n","properties":{"p":{"type":"integer","title":"t","minimum":1.5}}}`, "")
	check(`{"namespace":"n","properties":{"p":{"type":"string","title":"t","pattern":"(?=lookahead)"}}}`, "")
	check(`{"namespace":"n","properties":{"p":{"type":"string","title":"t","pattern":"[unclosed"}}}`, "'[unclosed' is not a 'regex'")
	check(`{"namespace":"n","objects":[{"name":"o","required":[]}]}`, "")
	check(`{"namespace":"n","objects":[{"name":"o"},{"required":["x"]}]}`, "'name' is a required property\n\nFailed validating 'required' in schema['properties']['objects']['items']\n\nOn instance['objects'][1]:")
}

func TestTextRules(t *testing.T) {
	for _, tc := range []struct {
		d    Definition
		want string
	}{
		{Definition{Namespace: Namespace{Name: "ok", Description: ptr("fine ü")}}, ""},
		{Definition{Namespace: Namespace{Name: "ok", Owner: "\U0001F693"}}, "Owner can't contain 4 byte unicode characters."},
		{Definition{Namespace: Namespace{Name: "ok"}, Associations: []Association{{Name: "A", PropertiesTarget: ptr("\U0001F693")}}},
			"Properties_Target can't contain 4 byte unicode characters."},
		{Definition{Namespace: Namespace{Name: "ok"}, Properties: []Property{{Name: "p", Schema: json.RawMessage(`{"enum":["a","\ud83d\ude93"]}`)}}},
			"Enum can't contain 4 byte unicode characters."},
		{Definition{Namespace: Namespace{Name: "ok"}, Objects: []Object{{Name: "o", Properties: []Property{{Name: "\U0001F693", Schema: json.RawMessage(`{}`)}}}}},
			"Name can't contain 4 byte unicode characters."},
		{Definition{Namespace: Namespace{Name: "ok"}, Tags: []Tag{{Name: "a/b"}}}, "Name can't contain '/'."},
		{Definition{Namespace: Namespace{Name: ""}}, "Namespace can't be empty."},
	} {
		err := checkDefinition(&tc.d)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.d, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%+v: got %v, want %s", tc.d, err, tc.want)
		}
	}
}

// Property definitions are stored as Glance's model holds them and shown
// in its field order.
func TestModelProperty(t *testing.T) {
	p, err := ParseProperty([]byte(`{"maximum":9,"default":false,"title":"T","type":"integer","name":"n","items":{"enum":["a"],"type":"string","x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Schema) != `{"name":"n","type":"integer","title":"T","default":"False","maximum":9,"items":{"type":"string","enum":["a"]}}` {
		t.Errorf("stored %s", p.Schema)
	}
	shown, err := RenderProperty(json.RawMessage(`{"type":"string","title":"T","x-extra":1,"default":1}`), ptr("shown"))
	if err != nil {
		t.Fatal(err)
	}
	if string(shown) != `{"name":"shown","type":"string","title":"T","default":"1"}` {
		t.Errorf("rendered %s", shown)
	}
}
