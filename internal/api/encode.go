package api

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"glint/internal/image"
)

// object is a JSON object that keeps its keys in insertion order, so image
// records read in the order Glance writes them. (json.Marshal compacts the
// output, so the separators here carry no spaces.)
type object struct {
	keys   []string
	values map[string]any
}

func newObject() *object { return &object{values: map[string]any{}} }

func (o *object) add(key string, v any) *object {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = v
	return o
}

// MarshalJSON implements json.Marshaler.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// timestamp is Glance's isotime: UTC, second precision, trailing Z.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// imageJSON renders an image as Glance does: extra properties flat at the
// top level, core fields present with null when unset.
func (h *Handler) imageJSON(img *image.Image) *object {
	o := newObject()
	props := make([]string, 0, len(img.Properties))
	for k := range img.Properties {
		props = append(props, k)
	}
	sort.Strings(props)
	for _, k := range props {
		if hiddenProperties[k] {
			continue
		}
		o.add(k, img.Properties[k])
	}
	o.add("name", img.Name).
		add("disk_format", img.DiskFormat).
		add("container_format", img.ContainerFormat).
		add("visibility", img.Visibility).
		add("size", img.Size).
		add("virtual_size", img.VirtualSize).
		add("status", img.Status).
		add("checksum", nullable(img.Checksum)).
		add("protected", img.Protected).
		add("min_ram", img.MinRAM).
		add("min_disk", img.MinDisk).
		add("owner", img.Owner).
		add("os_hidden", img.Hidden).
		add("os_hash_algo", nullable(img.HashAlgo)).
		add("os_hash_value", nullable(img.HashValue)).
		add("id", img.ID).
		add("created_at", timestamp(img.CreatedAt)).
		add("updated_at", timestamp(img.UpdatedAt))
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	o.add("tags", tags).
		add("self", "/v2/images/"+img.ID).
		add("file", "/v2/images/"+img.ID+"/file").
		add("schema", "/v2/schemas/image")
	if stores := img.StoreIDs(); h.opts.MultiStore && len(stores) > 0 {
		o.add("stores", strings.Join(stores, ","))
	}
	return o
}

// hiddenProperties are internal properties Glance never returns.
var hiddenProperties = map[string]bool{"os_glance_stage_host": true, "os_glance_hash_op_host": true}

func (h *Handler) imagesJSON(images []*image.Image) []*object {
	out := make([]*object, 0, len(images))
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
