package imagecli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/imageclient"
)

// The json and yaml formats as cliff's Python formatters write them:
// json byte for byte (Python's json.dump); yaml the same data in PyYAML's
// layout, though non-ASCII text is written as is rather than escaped.

// object is a JSON object or YAML mapping with its keys in order.
type object struct {
	keys   []string
	values []any
}

func newObject(keys []string, values []any) object {
	m := make([]any, len(values))
	for i, v := range values {
		m[i] = machine(v)
	}
	return object{keys: keys, values: m}
}

// writeJSON writes what Python's json.dump writes with cliff's options:
// indent 2 (or ", "/": " separators with --noindent) and ASCII only.
func (o *output) writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := appendJSON(&b, v, !o.noIndent, 0); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(asciiJSON(b.Bytes()))
	return err
}

func appendJSON(b *bytes.Buffer, v any, indent bool, depth int) error {
	sep := func(d int) {
		if indent {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("  ", d))
		}
	}
	comma := func() {
		b.WriteByte(',')
		if !indent {
			b.WriteByte(' ')
		}
	}
	switch v := v.(type) {
	case object:
		if len(v.keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				comma()
			}
			sep(depth + 1)
			if err := appendScalar(b, k); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := appendJSON(b, v.values[i], indent, depth+1); err != nil {
				return err
			}
		}
		sep(depth)
		b.WriteByte('}')
		return nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		values := make([]any, len(keys))
		for i, k := range keys {
			values[i] = v[k]
		}
		return appendJSON(b, object{keys: keys, values: values}, indent, depth)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				comma()
			}
			sep(depth + 1)
			if err := appendJSON(b, e, indent, depth+1); err != nil {
				return err
			}
		}
		sep(depth)
		b.WriteByte(']')
		return nil
	}
	return appendScalar(b, v)
}

func appendScalar(b *bytes.Buffer, v any) error {
	var s bytes.Buffer
	enc := json.NewEncoder(&s)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Write(bytes.TrimSuffix(s.Bytes(), []byte("\n")))
	return nil
}

// asciiJSON escapes every non-ASCII character and DEL as \uXXXX, as
// Python's ensure_ascii does; outside strings JSON is ASCII already.
func asciiJSON(in []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(in) {
		switch {
		case r == 0x7f || (r >= 0x80 && r < 0x10000):
			fmt.Fprintf(&out, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			out.WriteRune(r)
		}
	}
	return out.Bytes()
}

// writeYAML writes what PyYAML's safe_dump writes for cliff: block style,
// mapping keys sorted, sequences not indented under their key.
func writeYAML(w io.Writer, v any) error {
	node, err := yamlNode(v)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(node); err != nil {
		return err
	}
	return enc.Close()
}

func yamlNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case object:
		m := map[string]any{}
		for i, k := range v.keys {
			m[k] = v.values[i]
		}
		return yamlNode(m)
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			val, err := yamlNode(v[k])
			if err != nil {
				return nil, err
			}
			key := &yaml.Node{}
			if err := key.Encode(k); err != nil {
				return nil, err
			}
			n.Content = append(n.Content, key, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			val, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case float64:
		if v == float64(int64(v)) {
			return yamlNode(int64(v))
		}
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	// PyYAML quotes with single quotes unless escapes are needed.
	if s, ok := v.(string); ok && n.Style == yaml.DoubleQuotedStyle && imageclient.EscapeText(s) == s && !strings.ContainsRune(s, '\'') {
		n.Style = yaml.SingleQuotedStyle
	}
	return n, nil
}
