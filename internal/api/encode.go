package api

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// object is a JSON object that keeps its keys in insertion order, so image
// records read in the order Glance writes them. It encodes itself by
// appending (see json.go): listing a thousand images is mostly this.
type object struct {
	keys   []string
	values []any
}

func newObject() *object { return &object{} }

func (o *object) add(key string, v any) *object {
	for i, k := range o.keys {
		if k == key {
			o.values[i] = v
			return o
		}
	}
	o.keys = append(o.keys, key)
	o.values = append(o.values, v)
	return o
}

// MarshalJSON implements json.Marshaler.
func (o *object) MarshalJSON() ([]byte, error) { return o.appendJSON(nil) }

func (o *object) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	var err error
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, o.values[i]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// timestamp is Glance's isotime: UTC, second precision, trailing Z.
func timestamp(t time.Time) string { return t.UTC().Format(timeFormat) }

const timeFormat = "2006-01-02T15:04:05Z"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// imageJSON renders an image as Glance does: extra properties flat at the
// top level (sorted by name), then the core fields, present with null when
// unset.
func (h *Handler) imageJSON(img *image.Image) imageDoc {
	d := imageDoc{img: img, multiStore: h.opts.MultiStore}
	if h.opts.ShowDirectURL || h.opts.ShowMultipleLocations {
		d.locations = h.svc.LocationViews(img)
		d.showLocations, d.showDirectURL = h.opts.ShowMultipleLocations, h.opts.ShowDirectURL
	}
	return d
}

// imageDoc is an image record being encoded. It appends itself without
// building an intermediate object: a page of a thousand images is most of
// what a walk of the catalog costs.
type imageDoc struct {
	img        *image.Image
	multiStore bool
	// locations are shown as Glance shows them when the options say so.
	locations                    []image.LocationView
	showLocations, showDirectURL bool
}

func (d imageDoc) appendJSON(b []byte) []byte {
	img := d.img
	b = append(b, '{')
	if len(img.Properties) > 0 {
		names := make([]string, 0, len(img.Properties))
		for k := range img.Properties {
			if !hiddenProperties[k] {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, img.Properties[k])
			b = append(b, ',')
		}
	}
	field := func(key string) { b = append(b, key...) } // keys are plain ASCII, written quoted
	str := func(key string, v *string) {
		field(key)
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = appendString(b, *v)
		}
	}
	num := func(key string, v *int64) {
		field(key)
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, *v, 10)
		}
	}
	opt := func(key, v string) { // "" is null
		field(key)
		if v == "" {
			b = append(b, "null"...)
		} else {
			b = appendString(b, v)
		}
	}
	str(`"name":`, img.Name)
	str(`,"disk_format":`, img.DiskFormat)
	str(`,"container_format":`, img.ContainerFormat)
	field(`,"visibility":`)
	b = appendString(b, string(img.Visibility))
	num(`,"size":`, img.Size)
	num(`,"virtual_size":`, img.VirtualSize)
	field(`,"status":`)
	b = appendString(b, string(img.Status))
	opt(`,"checksum":`, img.Checksum)
	field(`,"protected":`)
	b = strconv.AppendBool(b, img.Protected)
	field(`,"min_ram":`)
	b = strconv.AppendInt(b, img.MinRAM, 10)
	field(`,"min_disk":`)
	b = strconv.AppendInt(b, img.MinDisk, 10)
	str(`,"owner":`, img.Owner)
	field(`,"os_hidden":`)
	b = strconv.AppendBool(b, img.Hidden)
	opt(`,"os_hash_algo":`, img.HashAlgo)
	opt(`,"os_hash_value":`, img.HashValue)
	field(`,"id":`)
	b = appendString(b, img.ID)
	field(`,"created_at":"`)
	b = img.CreatedAt.UTC().AppendFormat(b, timeFormat)
	field(`","updated_at":"`)
	b = img.UpdatedAt.UTC().AppendFormat(b, timeFormat)
	b = append(b, '"')
	// Glance puts locations, then direct_url (left out when there is no
	// location), after the core attributes and before tags.
	if d.showLocations {
		field(`,"locations":[`)
		for i, l := range d.locations {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLocation(b, l)
		}
		b = append(b, ']')
	}
	if d.showDirectURL && len(d.locations) > 0 {
		field(`,"direct_url":`)
		b = appendString(b, d.locations[0].URL)
	}
	field(`,"tags":`)
	b = append(b, '[')
	for i, t := range img.Tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t)
	}
	b = append(b, ']')
	// ids are UUIDs: nothing in them needs escaping.
	field(`,"self":"/v2/images/`)
	b = append(b, img.ID...)
	field(`","file":"/v2/images/`)
	b = append(b, img.ID...)
	field(`/file","schema":"/v2/schemas/image"`)
	if stores := img.StoreIDs(); d.multiStore && len(stores) > 0 {
		field(`,"stores":`)
		b = appendString(b, strings.Join(stores, ","))
	}
	return append(b, '}')
}

// hiddenProperties are internal properties Glance never returns.
var hiddenProperties = map[string]bool{"os_glance_stage_host": true, "os_glance_hash_op_host": true}

func (h *Handler) imagesJSON(images []*image.Image) []imageDoc {
	out := make([]imageDoc, 0, len(images))
	for _, img := range images {
		out = append(out, h.imageJSON(img))
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func memberJSON(m *image.Member) *object {
	return newObject().
		add("member_id", m.MemberID).
		add("image_id", m.ImageID).
		add("status", m.Status).
		add("created_at", timestamp(m.CreatedAt)).
		add("updated_at", timestamp(m.UpdatedAt)).
		add("schema", "/v2/schemas/member")
}

// appendLocation writes {"url": ..., "metadata": {...}}, metadata keys
// sorted.
func appendLocation(b []byte, l image.LocationView) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, l.URL)
	b = append(b, `,"metadata":`...)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if l.Metadata == nil || enc.Encode(l.Metadata) != nil {
		return append(b, "{}}"...)
	}
	b = append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
	return append(b, '}')
}

// locationsJSON is the body of GET /v2/images/{id}/locations: a bare list.
type locationsJSON []image.LocationView

func (ls locationsJSON) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLocation(b, l)
	}
	return append(b, ']')
}
