package image

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
)

// maxLocations is Glance's image_location_quota.
const maxLocations = 10

// isLocationChange reports whether a patch operation targets /locations
// ("locations", or "locations/N" and "locations/-").
func isLocationChange(c Change) bool {
	return c.Attr == "locations" || strings.HasPrefix(c.Attr, "locations/")
}

// changeLocations applies one JSON-patch operation on /locations with
// Glance's rules (glance/api/v2/images.py _do_add_locations,
// _do_replace_locations, _do_remove_locations). glint keeps a location
// as a store, a key and the metadata given, so a URL must name data in
// one of the configured stores that can take URLs (rbd of this cluster
// and pool, this S3 bucket, any web URL the http store may fetch).
func (s *Service) changeLocations(ctx context.Context, p caller.Principal, id string, c Change) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	pos, depth := "", 1
	if rest, ok := strings.CutPrefix(c.Attr, "locations/"); ok {
		pos, depth = rest, 2
	}
	verb := map[string]string{"add": "add", "replace": "update", "remove": "remove"}[c.Op]
	if !s.opts.ShowMultipleLocations {
		return newError(ErrForbidden, "It's not allowed to %s locations if locations are invisible.", verb)
	}
	switch {
	case c.Op == "replace" && depth != 1, c.Op != "replace" && depth != 2:
		return newError(ErrInvalid, "Invalid JSON pointer for this resource: '/%s'", c.Attr)
	}
	rule := "set_image_location"
	if c.Op == "remove" {
		rule = "delete_image_location"
	}
	if err := s.authorize(ctx, p, rule, img); err != nil {
		return err
	}
	switch c.Op {
	case "add":
		at := -1
		if pos != "-" {
			n, err := strconv.Atoi(pos)
			if err != nil || strings.Trim(pos, "0123456789") != "" {
				return newError(ErrInvalid, "Invalid position for adding a location.")
			}
			at = n
		}
		return s.addLocations(ctx, img, []any{c.Value}, "add", at)
	case "replace":
		list, ok := c.Value.([]any)
		if !ok {
			return newError(ErrInvalid, "Invalid locations: the value must be a list of locations.")
		}
		if len(list) == 0 {
			return newError(ErrForbidden, "Cannot set locations to empty list.")
		}
		return s.replaceLocations(ctx, img, list)
	}
	return s.removeLocation(ctx, img, pos)
}

// newLocation is a location being added, resolved to a store and key.
type newLocation struct {
	url, store, key string
	size            int64
	meta            map[string]any
}

func (nl newLocation) entry() string { return locationWithMeta(nl.store, nl.key, nl.meta) }

// maxLocationMeta bounds the metadata one location keeps (JSON bytes).
const maxLocationMeta = 16 << 10

// parsedLocation is one item of a locations value: its url, metadata and
// validation_data.
type parsedLocation struct {
	url   string
	meta  map[string]any
	valid any
}

func parseLocation(v any) (parsedLocation, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return parsedLocation{}, newError(ErrInvalid, "Provided object does not match schema 'image': a location must be an object with url and metadata.")
	}
	url, ok := m["url"].(string)
	if !ok || url == "" || len(url) > 255 {
		return parsedLocation{}, newError(ErrInvalid, "Provided object does not match schema 'image': 'url' is a required property (a string of at most 255 characters).")
	}
	meta, ok := m["metadata"].(map[string]any)
	if !ok {
		return parsedLocation{}, newError(ErrInvalid, "Provided object does not match schema 'image': 'metadata' is a required property.")
	}
	for k := range m {
		if k != "url" && k != "metadata" && k != "validation_data" {
			return parsedLocation{}, newError(ErrInvalid, "Provided object does not match schema 'image': Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	return parsedLocation{url: url, meta: meta, valid: m["validation_data"]}, nil
}

// keptMeta checks a location's metadata as glance_store's
// check_location_metadata does (strings, lists and objects only) and
// returns what is kept: all but "store", which must name the location's
// store when given.
func keptMeta(meta map[string]any, store string) (map[string]any, error) {
	kept := map[string]any{}
	for k, v := range meta {
		if k == "store" {
			if v != store {
				return nil, newError(ErrInvalid, "Invalid location metadata: the location is in store %s, not %v.", store, v)
			}
			continue
		}
		if err := checkMetaValue(k, v); err != nil {
			return nil, err
		}
		kept[k] = v
	}
	if b, _ := json.Marshal(kept); len(b) > maxLocationMeta {
		return nil, newError(ErrInvalid, "Invalid location metadata: more than %d bytes.", maxLocationMeta)
	}
	return kept, nil
}

func checkMetaValue(key string, v any) error {
	switch x := v.(type) {
	case string:
		return nil
	case []any:
		for _, e := range x {
			if err := checkMetaValue(key, e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, e := range x {
			if err := checkMetaValue(k, e); err != nil {
				return err
			}
		}
		return nil
	}
	return newError(ErrInvalid, "The image metadata key %s has an invalid type of %T.  Only dict, list, and unicode are supported.", key, v)
}

// addLocations checks and adds locations at position at (-1: the end); a
// queued image becomes active with the size the store reports and the
// validation_data given, if the owner's image_size_total has room.
func (s *Service) addLocations(ctx context.Context, img *Image, values []any, op string, at int) error {
	if img.Status != StatusActive && img.Status != StatusQueued {
		return newError(ErrConflict, "It's not allowed to %s locations if image status is %s.", op, img.Status)
	}
	var adds []newLocation
	var valid validation
	for _, v := range values {
		pl, err := parseLocation(v)
		if err != nil {
			return err
		}
		if pl.valid != nil {
			if err := valid.merge(pl.valid); err != nil {
				return err
			}
		}
		nl, err := s.resolveLocation(ctx, img, pl.url)
		if err != nil {
			return err
		}
		if nl.meta, err = keptMeta(pl.meta, nl.store); err != nil {
			return err
		}
		adds = append(adds, nl)
	}
	if err := valid.check(img); err != nil {
		return err
	}
	have := img.Locations()
	list := slices.Clone(have)
	if at < 0 || at > len(list) {
		at = len(list)
	}
	for _, nl := range adds {
		base := location(nl.store, nl.key)
		dup := slices.ContainsFunc(list, func(l string) bool { return locationBase(l) == base })
		if dup || (img.locationIn(nl.store) != "" && !blob.IsReadOnly(s.stores.Drivers[nl.store])) {
			return newError(ErrInvalid, "The location %s already exists", nl.url)
		}
		list = slices.Insert(list, at, nl.entry())
		at++
	}
	if len(list) > maxLocations {
		return newError(ErrTooLarge, "The limit has been exceeded on the number of allowed image locations. Attempted: %d, Maximum: %d", len(list), maxLocations)
	}
	u := ImportUpdate{IfStatus: []Status{img.Status}, SetLocations: list, IfLocation: img.Location}
	if img.Status != StatusQueued {
		return s.applyLocationUpdate(ctx, img.ID, u)
	}
	if err := unverifiable(img); err != nil {
		return err
	}
	size := adds[0].size
	u.Status, u.Size = StatusActive, &size
	u.Checksum, u.HashAlgo, u.HashValue = valid.checksum, valid.algo, valid.value
	return s.activateByLocation(ctx, img, size, u)
}

// activateByLocation makes a queued image active with data a location
// names: the data now counts against the owner's image_size_total (as
// Glance's quota proxy checks user_storage_quota when a location gives
// an image its size), so the check and the write are one step per
// project.
func (s *Service) activateByLocation(ctx context.Context, img *Image, size int64, u ImportUpdate) error {
	owner := deref(img.Owner)
	unlock, err := s.lockProject(ctx, owner)
	if err != nil {
		return err
	}
	defer unlock()
	remaining, limit, err := s.remainingBytes(ctx, owner, QuotaImageSizeTotal)
	if err != nil {
		return err
	}
	if remaining >= 0 && size > remaining {
		return overQuota(owner, QuotaImageSizeTotal, limit, limit-remaining/mib, (size+mib-1)/mib)
	}
	return s.applyLocationUpdate(ctx, img.ID, u)
}

// resolveLocation finds the store holding url's data and checks the data
// is there (Glance's _check_location_uri and the quota proxy's size
// lookup: a URL that names nothing is refused).
func (s *Service) resolveLocation(ctx context.Context, img *Image, url string) (newLocation, error) {
	for _, id := range s.stores.IDs() {
		r, ok := blob.As[blob.Resolver](s.stores.Drivers[id])
		if !ok {
			continue
		}
		key, mine, err := r.KeyFor(url)
		if !mine {
			continue
		}
		if err != nil {
			return newLocation{}, newError(ErrInvalid, "Invalid location: %v", err)
		}
		external := blob.IsReadOnly(s.stores.Drivers[id])
		if strings.Contains(key, "/") {
			return newLocation{}, newError(ErrInvalid, "Invalid location: %s is glint's own staging data", url)
		}
		if key != img.ID && !external {
			// Data named after another live image is that image's: two
			// records sharing it would delete it under each other.
			if other, err := s.store.GetImage(ctx, key); err == nil && !other.IsDeleted() {
				return newLocation{}, newError(ErrConflict, "Invalid location: %s holds the data of image %s", url, key)
			}
			if err := s.checkNotShared(ctx, url, id, key); err != nil {
				return newLocation{}, err
			}
		}
		info, err := s.stores.Drivers[id].Stat(ctx, key)
		switch {
		case err != nil && external:
			// A web server that cannot answer is a bad location, as
			// Glance's BadStoreUri, not a store outage.
			return newLocation{}, newError(ErrInvalid, "Invalid location: %s cannot be fetched: %v", url, err)
		case errors.Is(err, blob.ErrNotFound):
			return newLocation{}, newError(ErrInvalid, "Invalid location: %s names no image in store %s", url, id)
		case err != nil:
			return newLocation{}, &Error{Kind: ErrUnavailable, Msg: "The image store could not be reached; try again later.", cause: err}
		case info.Size == 0:
			return newLocation{}, newError(ErrInvalid, "Invalid location: %s holds no data", url)
		case img.Size != nil && info.Size != *img.Size:
			return newLocation{}, newError(ErrConflict, "Invalid location: %s holds %d bytes, the image %d", url, info.Size, *img.Size)
		}
		return newLocation{url: url, store: id, key: key, size: info.Size}, nil
	}
	scheme, _, _ := strings.Cut(url, "://")
	return newLocation{}, newError(ErrInvalid, "Invalid location: no configured store takes %s:// URLs", scheme)
}

// replaceLocations: with locations already set, Glance only lets the
// order and the metadata change (the same set of URLs); without, it adds
// them.
func (s *Service) replaceLocations(ctx context.Context, img *Image, list []any) error {
	views := s.LocationViews(img)
	if len(views) == 0 {
		return s.addLocations(ctx, img, list, "replace", -1)
	}
	if img.Status != StatusActive && img.Status != StatusQueued {
		return newError(ErrConflict, "It's not allowed to replace locations if image status is %s.", img.Status)
	}
	// Each shown URL stands for one of the image's locations (those
	// of stores that show no URL are kept as they are, first).
	byURL := map[string]string{}
	var hidden []string
	for _, loc := range img.Locations() {
		store, key := splitLocation(loc)
		if l, ok := blob.As[blob.Locator](s.stores.Drivers[store]); ok {
			byURL[l.URL(key)] = loc
		} else {
			hidden = append(hidden, loc)
		}
	}
	var have, want []string
	for _, v := range views {
		have = append(have, v.URL)
	}
	var valid validation
	next := slices.Clone(hidden)
	for _, v := range list {
		pl, err := parseLocation(v)
		if err != nil {
			return err
		}
		if pl.valid != nil {
			if err := valid.merge(pl.valid); err != nil {
				return err
			}
		}
		want = append(want, pl.url)
		loc, ok := byURL[pl.url]
		if !ok {
			continue // refused below, with the whole list
		}
		store, key := splitLocation(loc)
		meta, err := keptMeta(pl.meta, store)
		if err != nil {
			return err
		}
		next = append(next, locationWithMeta(store, key, meta))
	}
	if err := valid.check(img); err != nil {
		return err
	}
	sorted := func(l []string) []string { l = slices.Clone(l); slices.Sort(l); return l }
	if !slices.Equal(sorted(have), sorted(want)) {
		return newError(ErrInvalid, "Original locations is not empty: %s", strings.Join(have, ", "))
	}
	if slices.Equal(next, img.Locations()) {
		return nil
	}
	return s.applyLocationUpdate(ctx, img.ID, ImportUpdate{IfStatus: []Status{img.Status}, SetLocations: next, IfLocation: img.Location})
}

// removeLocation drops one location and deletes the data it names, as
// Glance does; never the last one, and not while clones use the data.
func (s *Service) removeLocation(ctx context.Context, img *Image, pos string) error {
	if img.Status != StatusActive {
		return newError(ErrConflict, "It's not allowed to remove locations if image status is %s.", img.Status)
	}
	locs := img.Locations()
	i := len(locs) - 1
	if pos != "-" {
		n, err := strconv.Atoi(pos)
		if err != nil || n < 0 || n >= len(locs) {
			return newError(ErrInvalid, "Invalid position for removing a location.")
		}
		i = n
	}
	if len(locs) == 1 {
		return newError(ErrForbidden, "Cannot remove last location in the image.")
	}
	loc := locs[i]
	d, key, err := s.driverFor(loc)
	if err != nil {
		return err
	}
	if c, ok := blob.As[blob.InUseChecker](d); ok {
		if err := c.InUse(ctx, key); errors.Is(err, blob.ErrInUse) {
			return &Error{Kind: ErrConflict, cause: err, Msg: fmt.Sprintf("The data for Image %s could not be deleted because it is in use.", img.ID)}
		}
	}
	if err := s.applyLocationUpdate(ctx, img.ID, ImportUpdate{IfStatus: []Status{StatusActive}, RemoveLocations: []string{loc}}); err != nil {
		return err
	}
	// The record no longer points at the data: a failure here leaves an
	// orphan blob, never a record without data.
	if err := s.releaseBlob(ctx, img.ID, loc); err != nil {
		s.log.ErrorContext(ctx, "deleting a removed location's data", "image_id", img.ID, "location", loc, "err", err)
	}
	return nil
}

// applyLocationUpdate writes a location change unless the image's status
// moved meanwhile (409) or it is gone (404).
func (s *Service) applyLocationUpdate(ctx context.Context, id string, u ImportUpdate) error {
	err := s.store.UpdateImport(ctx, id, "", u, s.now())
	switch {
	case errors.Is(err, ErrNotFound):
		return notFoundImage(id)
	case errors.Is(err, ErrConflict):
		return newError(ErrConflict, "Image %s changed while its locations were being updated; try again.", id)
	}
	return err
}

// validation is the validation_data of the locations of one operation.
type validation struct {
	checksum, algo, value string
}

// merge takes one location's validation_data, refusing one that
// disagrees with another of the same operation.
func (v *validation) merge(raw any) error {
	m, ok := raw.(map[string]any)
	if !ok {
		return newError(ErrInvalid, "Provided object does not match schema 'image': validation_data must be an object.")
	}
	for k := range m {
		if k != "checksum" && k != "os_hash_algo" && k != "os_hash_value" {
			return newError(ErrInvalid, "Provided object does not match schema 'image': Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	algo, _ := m["os_hash_algo"].(string)
	value, _ := m["os_hash_value"].(string)
	if algo == "" || value == "" {
		return newError(ErrInvalid, "Provided object does not match schema 'image': 'os_hash_algo' and 'os_hash_value' are required properties of validation_data.")
	}
	sum, _ := m["checksum"].(string)
	for _, f := range []struct {
		name      string
		dst       *string
		candidate string
	}{{"checksum", &v.checksum, sum}, {"os_hash_algo", &v.algo, algo}, {"os_hash_value", &v.value, value}} {
		if f.candidate == "" {
			continue
		}
		if *f.dst != "" && *f.dst != f.candidate {
			return newError(ErrConflict, "Conflicting values for %s", f.name)
		}
		*f.dst = f.candidate
	}
	return nil
}

// check compares the values with the image's (Glance's
// _validate_validation_data): only their form is checked, as Glance
// does; the data is not read.
func (v validation) check(img *Image) error {
	var fresh []string
	for _, f := range []struct{ name, got, have string }{
		{"checksum", v.checksum, img.Checksum}, {"os_hash_algo", v.algo, img.HashAlgo}, {"os_hash_value", v.value, img.HashValue},
	} {
		switch {
		case f.got == "":
		case f.have != "" && f.have != f.got:
			return newError(ErrConflict, "%s is already set with a different value", f.name)
		case f.have == "":
			fresh = append(fresh, f.name)
		}
	}
	if len(fresh) > 0 && img.Status != StatusQueued {
		return newError(ErrConflict, "New value(s) for %s may only be provided when image status is 'queued'", strings.Join(fresh, ", "))
	}
	if v.checksum != "" {
		if b, err := hex.DecodeString(v.checksum); err != nil {
			return newError(ErrConflict, "checksum (%s) is not a valid hexadecimal value", v.checksum)
		} else if len(b) != 16 {
			return newError(ErrConflict, "checksum (%s) is not the correct size for md5 (should be 16 bytes)", v.checksum)
		}
	}
	if v.algo != "" && v.algo != HashAlgo {
		return newError(ErrConflict, "os_hash_algo must be %s, not %s", HashAlgo, v.algo)
	}
	if v.value != "" {
		if b, err := hex.DecodeString(v.value); err != nil {
			return newError(ErrConflict, "os_hash_value (%s) is not a valid hexadecimal value", v.value)
		} else if len(b) != 64 {
			return newError(ErrConflict, "os_hash_value (%s) is not the correct size for %s (should be 64 bytes)", v.value, HashAlgo)
		}
	}
	return nil
}

// hashSizes are the hex lengths of the algorithms the service API takes.
var hashSizes = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

// AddLocation is Glance's service API, POST /v2/images/{id}/locations
// (Image API 2.17): Nova and Cinder add the location of data they put in
// a store to a queued image. Only the service role may name a store's
// URL; others may name http(s) ones when an http store is configured.
// glint reads the data once, as Glance's do_secure_hash does: the image
// becomes active with its checksums, and validation_data that does not
// match leaves it queued (409). Glance answers 202 and does this in a
// task; glint does it before answering.
func (s *Service) AddLocation(ctx context.Context, p caller.Principal, id, url string, algo, value string) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if img.Status != StatusQueued {
		return newError(ErrConflict, "It's not allowed to add locations if image status is %s.", img.Status)
	}
	if err := s.authorize(ctx, p, "add_image_location", img); err != nil {
		return err
	}
	if err := unverifiable(img); err != nil {
		return err
	}
	if !p.HasRole("service") && !(isWebURL(url) && s.hasReadOnlyStore()) {
		return newError(ErrForbidden, "http store must be enabled to use location API by normal user.")
	}
	if (algo == "") != (value == "") {
		return newError(ErrInvalid, "os_hash_algo and os_hash_value must both be given, or neither.")
	}
	if algo != "" {
		n, ok := hashSizes[algo]
		if !ok {
			return newError(ErrInvalid, "os_hash_algo %s is not one of md5, sha1, sha256, sha512.", algo)
		}
		if _, err := hex.DecodeString(value); err != nil || len(value) != n {
			return newError(ErrInvalid, "os_hash_value (%s) is not a valid %s hexadecimal value.", value, algo)
		}
	}
	nl, err := s.resolveLocation(ctx, img, url)
	if err != nil {
		return err
	}
	sums, err := s.hashBlob(ctx, nl, algo)
	if err != nil {
		return err
	}
	if algo != "" && sums.given != value {
		return newError(ErrConflict, "The data at %s does not match the %s given: it is %s.", url, algo, sums.given)
	}
	size := nl.size
	return s.activateByLocation(ctx, img, size, ImportUpdate{IfStatus: []Status{StatusQueued}, Status: StatusActive,
		Size: &size, Checksum: sums.md5, HashAlgo: HashAlgo, HashValue: sums.sha512,
		AddLocations: []string{location(nl.store, nl.key)}})
}

// isWebURL reports whether url is http(s), what any caller may add.
func isWebURL(url string) bool {
	scheme, _, _ := strings.Cut(url, "://")
	scheme = strings.ToLower(scheme)
	return scheme == "http" || scheme == "https"
}

// hasReadOnlyStore reports whether an http store is configured.
func (s *Service) hasReadOnlyStore() bool {
	for _, d := range s.stores.Drivers {
		if blob.IsReadOnly(d) {
			return true
		}
	}
	return false
}

type blobSums struct{ md5, sha512, given string }

// hashBlob reads a location's data once for md5, sha512 and, when
// another algorithm is given, that one.
func (s *Service) hashBlob(ctx context.Context, nl newLocation, algo string) (blobSums, error) {
	r, err := s.stores.Drivers[nl.store].Reader(ctx, nl.key, 0)
	if err != nil {
		return blobSums{}, &Error{Kind: ErrUnavailable, Msg: "The image store could not be read; try again later.", cause: err}
	}
	defer r.Close()
	d := newDigester()
	defer d.close()
	var extra hash.Hash
	switch algo {
	case "sha1":
		extra = sha1.New()
	case "sha256":
		extra = sha256.New()
	}
	dst := io.Discard
	if extra != nil {
		dst = extra
	}
	n, err := copyHashed(dst, r, d, nl.size, newError(ErrConflict, "The data at %s grew while it was read.", nl.url))
	if err != nil {
		return blobSums{}, err
	}
	if n != nl.size {
		return blobSums{}, newError(ErrConflict, "The data at %s changed while it was read.", nl.url)
	}
	sums := blobSums{md5: d.md5Hex(), sha512: d.sha512Hex()}
	switch algo {
	case "md5":
		sums.given = sums.md5
	case "sha512":
		sums.given = sums.sha512
	case "sha1", "sha256":
		sums.given = hex.EncodeToString(extra.Sum(nil))
	}
	return sums, nil
}
