// Package imageclient is glint's one client of the Image API v2, for
// every part of glint that is a client: `glint image`, `glint manage` and
// the dashboard. It works on a gophercloud service client; it decodes
// image records itself (gophercloud's Image folds a missing size into 0
// and drops fields such as the hashes and stores), pages through listings
// and turns refusals into one Error type.
package imageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Image is an image record as the server sent it: the attributes glint's
// clients read, typed, and Raw, every field with its JSON type (numbers
// as float64), for output that shows them all.
type Image struct {
	ID, Name, Status, Visibility, Owner string
	DiskFormat, ContainerFormat         string
	Checksum, HashAlgo, HashValue       string
	// Size and VirtualSize are nil when the server has none (no data yet).
	Size, VirtualSize    *int64
	MinDisk, MinRAM      int64
	Protected, Hidden    bool
	CreatedAt, UpdatedAt time.Time
	Tags, Stores         []string
	// Properties are the extra properties: every field that is not an
	// attribute of Glance's image schema, as text (JSON for non-strings,
	// "" for null).
	Properties map[string]string
	Raw        map[string]any
}

// coreKeys are the attributes of Glance's image schema; every other
// top-level field of an image is an extra property.
var coreKeys = map[string]bool{
	"id": true, "name": true, "status": true, "visibility": true, "owner": true, "protected": true,
	"os_hidden": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true, "size": true,
	"virtual_size": true, "min_disk": true, "min_ram": true, "created_at": true, "updated_at": true,
	"tags": true, "self": true, "file": true, "schema": true, "disk_format": true,
	"container_format": true, "locations": true, "direct_url": true, "stores": true,
}

// IsCore reports whether key is an attribute of the image schema rather
// than an extra property.
func IsCore(key string) bool { return coreKeys[key] }

// Decode reads an image from its JSON object, decoded with numbers as
// float64 (see Normalize).
func Decode(raw map[string]any) *Image {
	str := func(k string) string { s, _ := raw[k].(string); return s }
	num := func(k string) *int64 {
		f, ok := raw[k].(float64)
		if !ok {
			return nil
		}
		n := int64(f)
		return &n
	}
	img := &Image{Raw: raw, Properties: map[string]string{},
		ID: str("id"), Name: str("name"), Status: str("status"), Visibility: str("visibility"), Owner: str("owner"),
		DiskFormat: str("disk_format"), ContainerFormat: str("container_format"),
		Checksum: str("checksum"), HashAlgo: str("os_hash_algo"), HashValue: str("os_hash_value"),
		Size: num("size"), VirtualSize: num("virtual_size")}
	if n := num("min_disk"); n != nil {
		img.MinDisk = *n
	}
	if n := num("min_ram"); n != nil {
		img.MinRAM = *n
	}
	img.Protected, _ = raw["protected"].(bool)
	img.Hidden, _ = raw["os_hidden"].(bool)
	img.CreatedAt, _ = time.Parse(time.RFC3339, str("created_at"))
	img.UpdatedAt, _ = time.Parse(time.RFC3339, str("updated_at"))
	if tags, ok := raw["tags"].([]any); ok {
		for _, t := range tags {
			if s, ok := t.(string); ok {
				img.Tags = append(img.Tags, s)
			}
		}
	}
	if s := str("stores"); s != "" {
		img.Stores = strings.Split(s, ",")
	}
	for k, v := range raw {
		if coreKeys[k] {
			continue
		}
		switch x := v.(type) {
		case string:
			img.Properties[k] = x
		case nil:
			img.Properties[k] = ""
		default:
			j, _ := json.Marshal(x)
			img.Properties[k] = string(j)
		}
	}
	return img
}

// UnmarshalJSON decodes an image object, as gophercloud's results and
// the listings hand it over.
func (img *Image) UnmarshalJSON(b []byte) error {
	raw, err := decodeObject(b)
	if err != nil {
		return err
	}
	*img = *Decode(raw)
	return nil
}

// decodeObject decodes a JSON object keeping every number exact until
// Normalize makes it a float64, as gophercloud's own bodies are.
func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	raw, ok := Normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an image is a JSON object, not %s", bytes.TrimSpace(b))
	}
	return raw, nil
}

// Normalize turns the json.Numbers of a body gophercloud decoded into
// float64, as encoding/json decodes them by default, in place.
func Normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case map[string]any:
		for k, e := range v {
			v[k] = Normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = Normalize(e)
		}
	}
	return v
}

// CallTimeout bounds one call that moves no image data: a cloud that
// stops answering must not hang a client (a scheduled glint manage run)
// forever.
const CallTimeout = 2 * time.Minute

// Get reads one image.
func Get(ctx context.Context, c *gophercloud.ServiceClient, id string) (*Image, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var img Image
	if _, err := c.Get(ctx, c.ServiceURL("images", id), &img, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return nil, Describe(err)
	}
	return &img, nil
}
