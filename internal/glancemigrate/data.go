package glancemigrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/checksum"
	"github.com/glint-image/glint/internal/image"
)

// placement is one location of an image's data in glint.
type placement struct {
	loc     string
	copied  bool // copied in this run
	adopted bool // served where Glance keeps it
	size    int64
}

// place finds or puts the data of each of Glance's active locations in
// glint's stores and returns glint's Location value. A location glint
// cannot serve, data that is missing or does not match its checksums
// fail the image (nothing of it is written).
func (m *Migrator) place(ctx context.Context, g *glanceImage, cur *image.Image, dryRun bool) (string, []placement, error) {
	var locs []string
	var placed []placement
	for _, gl := range g.Locations {
		var loc string
		var p placement
		target, path, err := m.target(gl)
		switch {
		case errors.Is(err, errNotFile):
			loc, p, err = m.adoptURL(ctx, g, gl)
		case err == nil:
			loc, p, err = m.placeOne(ctx, g, cur, target, path, dryRun)
		}
		if err != nil {
			return "", nil, err
		}
		if slices.ContainsFunc(locs, func(l string) bool { b, _, _ := strings.Cut(l, "?"); return b == loc }) {
			continue // two Glance stores, one glint store
		}
		store, key := splitLocation(loc)
		locs = append(locs, image.LocationEntry(store, key, gl.Meta))
		placed = append(placed, p)
	}
	return image.JoinLocations(locs), placed, nil
}

// target resolves a Glance location to the glint store its data goes to
// and the file it is in.
func (m *Migrator) target(gl glanceLocation) (store, path string, err error) {
	u, err := url.Parse(gl.URL)
	if err != nil {
		return "", "", fmt.Errorf("location %q is not a URL", gl.URL)
	}
	if u.Scheme != "file" && u.Scheme != "filesystem" {
		return "", "", errNotFile
	}
	path = filepath.Clean(u.Path)
	store = m.Stores.Default
	if m.Stores.Named && gl.Store != "" {
		if _, ok := m.Stores.Drivers[gl.Store]; !ok {
			return "", "", fmt.Errorf("location in Glance store %q: glint has no store of that id (configure one, or use the configuration --print-config writes)", gl.Store)
		}
		store = gl.Store
	}
	return store, path, nil
}

var errNotFile = errors.New("not a file location")

// adoptURL adopts data at a location URL of another kind (rbd://, s3://)
// in place: a glint store that takes such URLs (blob.Resolver: the RBD
// store of that cluster and pool, the S3 store of that bucket) names the
// same data by a key, and the data must be there with the record's size.
// The store the location's metadata names is asked first.
func (m *Migrator) adoptURL(ctx context.Context, g *glanceImage, gl glanceLocation) (string, placement, error) {
	ids := m.Stores.IDs()
	if _, ok := m.Stores.Drivers[gl.Store]; ok {
		ids = append([]string{gl.Store}, ids...)
	}
	scheme, _, _ := strings.Cut(gl.URL, "://")
	for _, id := range ids {
		r, ok := blob.As[blob.Resolver](m.Stores.Drivers[id])
		if !ok {
			continue
		}
		key, ok, err := r.KeyFor(gl.URL)
		if !ok || err != nil {
			continue
		}
		info, err := m.Stores.Drivers[id].Stat(ctx, key)
		if err != nil {
			return "", placement{}, fmt.Errorf("data missing: %s://… in glint store %s: %v", scheme, id, err)
		}
		if g.Size.Valid && info.Size != g.Size.Int64 {
			return "", placement{}, fmt.Errorf("data of %d bytes at %s://… in store %s, record says %d", info.Size, scheme, id, g.Size.Int64)
		}
		return id + ":" + key, placement{loc: id + ":" + key, adopted: true, size: info.Size}, nil
	}
	return "", placement{}, fmt.Errorf("location %s://… (Glance store %q): no glint store takes it (configure an rbd or s3 store for the same cluster and pool or bucket, or an http store for web URLs)", scheme, gl.Store)
}

// placeOne adopts or copies one file into glint store target.
func (m *Migrator) placeOne(ctx context.Context, g *glanceImage, cur *image.Image, target, path string, dryRun bool) (string, placement, error) {
	d := m.Stores.Drivers[target]
	size := g.Size.Int64
	if dir, ok := m.Adopt[target]; ok && filepath.Dir(path) == filepath.Clean(dir) && blob.ValidKey(filepath.Base(path)) {
		key := filepath.Base(path)
		info, err := d.Stat(ctx, key)
		if err != nil {
			return "", placement{}, fmt.Errorf("data missing: %s: %v", path, err)
		}
		if g.Size.Valid && info.Size != size {
			return "", placement{}, fmt.Errorf("data of %d bytes at %s, record says %d", info.Size, path, size)
		}
		return target + ":" + key, placement{loc: target + ":" + key, adopted: true, size: info.Size}, nil
	}
	loc := target + ":" + g.ID
	if cur != nil && contains(cur.Locations(), loc) && cur.Checksum == g.Checksum.String && cur.HashValue == g.HashValue.String {
		return loc, placement{loc: loc, size: size}, nil // copied by a past run
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", placement{}, fmt.Errorf("data missing: %s", path)
		}
		return "", placement{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if dryRun {
		// Read and check, write nothing: the plan then skips what the
		// run would skip.
		d = discard{}
	}
	n, err := m.copyVerified(ctx, d, g, f)
	if err != nil {
		return "", placement{}, fmt.Errorf("copying %s: %w", path, err)
	}
	return loc, placement{loc: loc, copied: true, size: n}, nil
}

// copyVerified streams r into d under the image id and commits only if
// size, md5 and os_hash_value match Glance's record.
func (m *Migrator) copyVerified(ctx context.Context, d blob.Driver, g *glanceImage, r io.Reader) (int64, error) {
	md := md5.New()
	hashes := []io.Writer{md}
	var h hash.Hash
	if g.HashAlgo.Valid && g.HashAlgo.String != "" {
		h = checksum.New(g.HashAlgo.String)
		if h == nil {
			return 0, fmt.Errorf("os_hash_algo %q: not one glint can check", g.HashAlgo.String)
		}
		hashes = append(hashes, h)
	}
	w, err := d.Writer(ctx, g.ID)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.MultiWriter(append(hashes, w)...), r)
	if err == nil {
		err = verify(g, n, hex.EncodeToString(md.Sum(nil)), h)
	}
	if err == nil {
		err = w.Commit(ctx)
	}
	if err != nil {
		return 0, errors.Join(err, w.Cancel(context.WithoutCancel(ctx)))
	}
	return n, nil
}

// verify compares what was read with the record.
func verify(g *glanceImage, n int64, md5hex string, h hash.Hash) error {
	if g.Size.Valid && n != g.Size.Int64 {
		return fmt.Errorf("size mismatch: read %d bytes, record says %d", n, g.Size.Int64)
	}
	if g.Checksum.Valid && g.Checksum.String != "" && md5hex != g.Checksum.String {
		return fmt.Errorf("checksum mismatch: md5 %s, record says %s", md5hex, g.Checksum.String)
	}
	if h != nil && g.HashValue.Valid {
		if got := hex.EncodeToString(h.Sum(nil)); got != g.HashValue.String {
			return fmt.Errorf("os_hash_value mismatch: %s %s, record says %s", g.HashAlgo.String, got, g.HashValue.String)
		}
	}
	return nil
}

// splitLocation reads a record's location: "store:key", then metadata
// after a '?' (image.LocationEntry).
func splitLocation(loc string) (store, key string) {
	loc, _, _ = strings.Cut(loc, "?")
	store, key, _ = strings.Cut(loc, ":")
	return store, key
}

// discard is a blob.Driver whose writers keep nothing, for dry runs.
type discard struct{ blob.Driver }

func (discard) Writer(context.Context, string) (blob.Writer, error) { return &discardWriter{}, nil }

type discardWriter struct{ n int64 }

func (w *discardWriter) Write(p []byte) (int, error)  { w.n += int64(len(p)); return len(p), nil }
func (w *discardWriter) Size() int64                  { return w.n }
func (w *discardWriter) Commit(context.Context) error { return nil }
func (w *discardWriter) Cancel(context.Context) error { return nil }
