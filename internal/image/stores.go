package image

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
)

// Stores are the named blob drivers image data may live in (Glance's
// multi-store). With a single unnamed store, Default is its id and
// nothing about stores shows in the API.
type Stores struct {
	Drivers map[string]blob.Driver
	Default string
	// Named is set when the stores are named in the API (multi-store):
	// imports then target stores by id.
	Named bool
	// Shared lists the stores whose uploads share identical data
	// (sharing.go).
	Shared map[string]bool
}

// IDs lists the store ids in a stable order.
func (st Stores) IDs() []string {
	ids := make([]string, 0, len(st.Drivers))
	for id := range st.Drivers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (st Stores) validate() error {
	if _, ok := st.Drivers[st.Default]; !ok {
		return fmt.Errorf("image: default store %q is not among the stores", st.Default)
	}
	return nil
}

// A location records where an image's data is: "store:key". Store ids and
// blob keys never contain ':' (blob.ValidKey), so the split is unambiguous.
// An image copied to several stores (copy-image) has several, kept in
// Image.Location separated by commas, which neither may contain either.
func location(store, key string) string { return store + ":" + key }

// A location added through the locations API keeps the metadata it was
// given (Glance stores any JSON object with a location and shows it
// back): "store:key?" then the object's JSON, base64url-encoded. '?' is in
// no store id or key, and base64url has no ',' or ':'. The store itself is
// not kept in it: it is the location's prefix.
func locationWithMeta(store, key string, meta map[string]any) string {
	loc := location(store, key)
	if len(meta) == 0 {
		return loc
	}
	b, _ := json.Marshal(meta) // values are JSON-decoded: strings, lists, objects
	return loc + "?" + base64.RawURLEncoding.EncodeToString(b)
}

// LocationEntry is a location as records keep it: the data's store and
// key, and the metadata given with the location (Glance's, beyond the
// store), for writers of records such as the Glance migration.
func LocationEntry(store, key string, meta map[string]any) string {
	return locationWithMeta(store, key, meta)
}

// locationMeta returns the metadata a location keeps (nil when none).
func locationMeta(loc string) map[string]any {
	_, enc, ok := strings.Cut(loc, "?")
	if !ok {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil
	}
	var meta map[string]any
	if json.Unmarshal(b, &meta) != nil {
		return nil
	}
	return meta
}

// locationBase drops a location's metadata: the store and key.
func locationBase(loc string) string {
	base, _, _ := strings.Cut(loc, "?")
	return base
}

// Locations lists the locations of the image's data, the first being the
// one it was uploaded or imported to.
func (img *Image) Locations() []string {
	if img.Location == "" {
		return nil
	}
	return strings.Split(img.Location, ",")
}

// JoinLocations is the Location field for a list of locations.
func JoinLocations(locs []string) string { return strings.Join(locs, ",") }

func splitLocation(loc string) (store, key string) {
	store, key, _ = strings.Cut(locationBase(loc), ":")
	return store, key
}

// StoreIDs lists the stores holding the image's data (its "stores"
// attribute).
func (img *Image) StoreIDs() []string {
	var ids []string
	for _, loc := range img.Locations() {
		store, _ := splitLocation(loc)
		ids = append(ids, store)
	}
	return ids
}

// locationIn returns the image's location in store, or "".
func (img *Image) locationIn(store string) string {
	for _, loc := range img.Locations() {
		if s, _ := splitLocation(loc); s == store {
			return loc
		}
	}
	return ""
}

// driverFor resolves a location to its driver and key.
func (s *Service) driverFor(loc string) (blob.Driver, string, error) {
	store, key := splitLocation(loc)
	d, ok := s.stores.Drivers[store]
	if !ok {
		return nil, "", fmt.Errorf("image data location %q names unknown store %q", loc, store)
	}
	return d, key, nil
}

// pickStore resolves the store an upload asked for ("" = the default).
func (s *Service) pickStore(id string) (string, blob.Driver, error) {
	if id == "" {
		id = s.stores.Default
	}
	d, ok := s.stores.Drivers[id]
	if !ok {
		return "", nil, newError(ErrInvalid, "Store for identifier %s not found", id)
	}
	if blob.IsReadOnly(d) {
		// glance_store's StoreAddDisabled, which Glance answers 410.
		return "", nil, newError(ErrGone, "Error in store configuration. Adding images to store is disabled.")
	}
	return id, d, nil
}

// Writable lists the ids of the stores that take data (all but http
// stores), in IDs' order: what all_stores means.
func (st Stores) Writable() []string {
	return slices.DeleteFunc(st.IDs(), func(id string) bool { return blob.IsReadOnly(st.Drivers[id]) })
}

// deleteBlob removes the data at a location; missing data is not an error.
func (s *Service) deleteBlob(ctx context.Context, loc string) error {
	d, key, err := s.driverFor(loc)
	if err != nil {
		return err
	}
	if err := d.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}

// checkNotInUse refuses (409, nothing changed) to delete an image whose
// data something outside glint depends on: clones of its RBD snapshot,
// as Glance's InUseByStore.
func (s *Service) checkNotInUse(ctx context.Context, img *Image) error {
	for _, loc := range img.Locations() {
		d, key, err := s.driverFor(loc)
		if err != nil {
			return err
		}
		c, ok := blob.As[blob.InUseChecker](d)
		if !ok {
			continue
		}
		err = c.InUse(ctx, key)
		switch {
		case errors.Is(err, blob.ErrInUse):
			return &Error{Kind: ErrConflict, cause: err, Msg: fmt.Sprintf("Image %s could not be deleted because it is in use: "+
				"The image cannot be deleted because it is in use through the backend store outside of Glance.", img.ID)}
		case err != nil && !errors.Is(err, blob.ErrNotFound):
			return &Error{Kind: ErrUnavailable, cause: err, Msg: "The image store could not be reached; try again later."}
		}
	}
	return nil
}

// LocationView is one location as Glance shows it: the store's URL of the
// data and its metadata: what was given when it was added, with
// {"store": id} when stores are named.
type LocationView struct {
	URL      string
	Metadata map[string]any
}

// LocationViews lists where the image's data is, in the image's order
// (the first is the direct_url). Stores that cannot name their data in a
// URL are left out.
func (s *Service) LocationViews(img *Image) []LocationView {
	var out []LocationView
	for _, loc := range img.Locations() {
		store, key := splitLocation(loc)
		l, ok := blob.As[blob.Locator](s.stores.Drivers[store])
		if !ok {
			continue
		}
		meta := map[string]any{}
		for k, v := range locationMeta(loc) {
			meta[k] = v
		}
		if s.stores.Named {
			meta["store"] = store
		}
		out = append(out, LocationView{URL: l.URL(key), Metadata: meta})
	}
	return out
}

// Locations answers Glance's service API, GET /v2/images/{id}/locations
// (Image API 2.17): the image's locations, for callers that
// fetch_image_location allows (the service role: Nova, Cinder).
func (s *Service) Locations(ctx context.Context, p caller.Principal, id string) ([]LocationView, error) {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "fetch_image_location", img); err != nil {
		return nil, err
	}
	return s.LocationViews(img), nil
}
