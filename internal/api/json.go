package api

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/glint-image/glint/internal/image"
)

// appendValue appends the JSON encoding of v. The types image records and
// their envelopes are made of are encoded here directly; anything else
// goes through encoding/json, whose output this matches byte for byte
// (including its escaping of <, > and & for HTML safety).
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case *string:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendString(b, *v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case *int64:
		if v == nil {
			return append(b, "null"...), nil
		}
		return strconv.AppendInt(b, *v, 10), nil
	case image.Status:
		return appendString(b, string(v)), nil
	case image.Visibility:
		return appendString(b, string(v)), nil
	case image.MemberStatus:
		return appendString(b, string(v)), nil
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case *object:
		if v == nil {
			return append(b, "null"...), nil
		}
		return v.appendJSON(b)
	case imageDoc:
		return v.appendJSON(b), nil
	case locationsJSON:
		return v.appendJSON(b), nil
	case []imageDoc:
		b = append(b, '[')
		for i, d := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.appendJSON(b)
		}
		return append(b, ']'), nil
	case []*object:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, o); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does:
// quotes, backslashes, control characters, <, >, &, U+2028 and U+2029;
// invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
