package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/glint-image/glint/internal/image"
)

// The two JSON-patch dialects Glance accepts on PATCH /v2/images/{id}.
const (
	patchV21 = "application/openstack-images-v2.1-json-patch" // RFC 6902 style
	patchV20 = "application/openstack-images-v2.0-json-patch" // draft-4 style
)

var acceptPatch = http.Header{"Accept-Patch": {patchV20 + ", " + patchV21}}

// decodePatch parses a patch document into image changes, refusing what
// Glance's deserializer refuses before any image is loaded.
func (h *Handler) decodePatch(r *http.Request) ([]image.Change, error) {
	contentType := r.Header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType != patchV21 && mediaType != patchV20 {
		if contentType == "" {
			contentType = "None"
		}
		return nil, unsupportedMediaType(contentType, acceptPatch)
	}
	body, err := h.readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("Body expected in request.")
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || dec.More() {
		return nil, badRequest("Malformed JSON in request body.")
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, badRequest("Request body must be a JSON array of operation objects.")
	}
	changes := make([]image.Change, 0, len(list))
	for _, item := range list {
		op, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest("Operations must be JSON objects.")
		}
		c, err := parseChange(op, mediaType == patchV20)
		if err != nil {
			return nil, err
		}
		if err := image.CheckChange(c); err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	return changes, nil
}

var supportedOps = []string{"replace", "add", "remove"}

// parseChange reads one operation in either dialect: {"op": "add",
// "path": "/x", "value": v} (v2.1) or {"add": "/x", "value": v} (v2.0).
func parseChange(raw map[string]any, legacy bool) (image.Change, error) {
	var op, path string
	if legacy {
		var found []string
		for _, name := range supportedOps {
			if _, ok := raw[name]; ok {
				found = append(found, name)
			}
		}
		if len(found) != 1 {
			return image.Change{}, badRequest("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
		}
		op = found[0]
		p, ok := raw[op].(string)
		if !ok {
			return image.Change{}, badRequest("Unable to find '" + op + "' in JSON Schema change")
		}
		path = p
	} else {
		o, ok := raw["op"].(string)
		if !ok {
			return image.Change{}, badRequest("Unable to find `op` in JSON Schema change. It must be one of the following: " + strings.Join(supportedOps, ", ") + ".")
		}
		if !isSupportedOp(o) {
			return image.Change{}, badRequest("Invalid operation: `" + o + "`. It must be one of the following: " + strings.Join(supportedOps, ", ") + ".")
		}
		op = o
		p, ok := raw["path"].(string)
		if !ok {
			return image.Change{}, badRequest("Unable to find `path` in JSON Schema change")
		}
		path = p
	}
	attr, err := decodePointer(path)
	if err != nil {
		return image.Change{}, err
	}
	c := image.Change{Op: op, Attr: attr, Strict: legacy}
	if op != "remove" {
		v, ok := raw["value"]
		if !ok {
			return image.Change{}, badRequest("Operation \"" + op + "\" requires a member named \"value\".")
		}
		c.Value = v
	}
	return c, nil
}

func isSupportedOp(op string) bool {
	for _, s := range supportedOps {
		if s == op {
			return true
		}
	}
	return false
}

var badEscape = regexp.MustCompile(`~[^01]|~$`)

// decodePointer turns "/name" into "name", decoding ~1 and ~0. Only
// single-segment pointers name an image attribute, and "/locations/N" a
// location ("locations/N").
func decodePointer(p string) (string, error) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "", badRequest("Pointer `" + p + "` does not start with \"/\".")
	case strings.Contains(p, "//"):
		return "", badRequest("Pointer `" + p + "` contains adjacent \"/\".")
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return "", badRequest("Pointer `" + p + "` end with \"/\".")
	case len(p) == 1:
		return "", badRequest("Pointer `" + p + "` does not contains valid token.")
	case badEscape.MatchString(p):
		return "", badRequest("Pointer `" + p + "` contains \"~\" not part of a recognized escape sequence.")
	}
	segments := strings.Split(p[1:], "/")
	if len(segments) != 1 && !(segments[0] == "locations" && len(segments) == 2) {
		return "", badRequest("Invalid JSON pointer for this resource: '" + p + "'")
	}
	attr := strings.ReplaceAll(strings.ReplaceAll(segments[0], "~1", "/"), "~0", "~")
	if len(segments) == 2 {
		// "/locations/N": the position goes with it (internal/image
		// checks it).
		attr += "/" + segments[1]
	}
	return attr, nil
}
