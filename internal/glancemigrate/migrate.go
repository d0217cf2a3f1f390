package glancemigrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/metadef"
)

// Records is what the migration writes glint's records through.
type Records interface {
	image.Store
	image.VerbatimStore
}

// Migrator copies a Glance into glint.
type Migrator struct {
	Glance   *GlanceConfig
	Records  Records
	Metadefs metadef.Store
	Stores   image.Stores
	// Adopt maps a glint store id to the directory it serves in Glance's
	// layout (a file store with layout: glance): Glance files in that
	// directory are adopted in place, not copied.
	Adopt map[string]string
	Log   *slog.Logger
}

// Options steer one run.
type Options struct {
	DryRun bool
	// IncludeDeleted migrates Glance's deleted images too (as deleted
	// records, without data).
	IncludeDeleted bool
	// AcceptSchema are alembic versions to read besides KnownSchemas.
	AcceptSchema []string
	// Workers write records (and copy data) in parallel; default 8.
	Workers int
}

// Run migrates once. Per-image problems are in the report; the error is
// for what stops the whole run (the database, the schema).
func (m *Migrator) Run(ctx context.Context, opts Options) (*Report, error) {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	src, err := openSource(ctx, m.Glance.Connection, opts.AcceptSchema)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	rep := &Report{GlanceSchema: src.schema, DryRun: opts.DryRun, Started: time.Now().UTC()}
	imgs, err := src.readImages(ctx)
	if err != nil {
		return nil, err
	}
	tasks, err := src.readRunningTasks(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		rep.Tasks = append(rep.Tasks, Item{Kind: "task", ID: t.ID,
			Reason: fmt.Sprintf("%s task %s (image %s, owner %s) is still running in Glance: not copied; finish or let it fail before the final sync", t.Type, t.Status, t.ImageID, t.Owner)})
	}
	m.images(ctx, imgs, opts, rep)
	if m.Metadefs != nil {
		if err := m.namespaces(ctx, src, opts, rep); err != nil {
			return nil, err
		}
	}
	rep.Finished = time.Now().UTC()
	rep.sort()
	return rep, nil
}

// images migrates every image, opts.Workers at a time.
func (m *Migrator) images(ctx context.Context, imgs []*glanceImage, opts Options, rep *Report) {
	work := make(chan *glanceImage)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				out := m.image(ctx, g, opts)
				mu.Lock()
				rep.add(out)
				mu.Unlock()
			}
		}()
	}
	for _, g := range imgs {
		if ctx.Err() != nil {
			break
		}
		work <- g
	}
	close(work)
	wg.Wait()
}

// outcome is what happened to one image.
type outcome struct {
	id      string
	action  string // created, updated, unchanged, deleted, skipped, ignored
	reason  string
	changed []string
	copied  int
	adopted int
	bytes   int64
}

// image migrates one image: translate, place its data, compare with
// glint's copy, write if different.
func (m *Migrator) image(ctx context.Context, g *glanceImage, opts Options) outcome {
	out := outcome{id: g.ID}
	cur, members, err := m.current(ctx, g.ID)
	if err != nil {
		return skip(out, err.Error())
	}
	if g.Deleted && !opts.IncludeDeleted {
		if cur == nil || cur.IsDeleted() {
			out.action = "ignored"
			return out
		}
		// Deleted in Glance since the last run: delete in glint too.
		return m.deleteImage(ctx, g, cur, opts, out)
	}
	want, wantMembers, err := translate(g)
	if err != nil {
		return skip(out, err.Error())
	}
	if !g.Deleted {
		var placed []placement
		want.Location, placed, err = m.place(ctx, g, cur, opts.DryRun)
		if err != nil {
			return skip(out, err.Error())
		}
		for _, p := range placed {
			if p.copied {
				out.copied++
				out.bytes += p.size
			}
			if p.adopted {
				out.adopted++
			}
		}
	}
	if cur != nil {
		out.changed = differences(cur, members, want, wantMembers)
		if len(out.changed) == 0 {
			out.action = "unchanged"
			return out
		}
		out.action = "updated"
	} else {
		out.action = "created"
	}
	if opts.DryRun {
		return out
	}
	if err := m.Records.PutImage(ctx, want, wantMembers); err != nil {
		return skip(out, "writing the record: "+err.Error())
	}
	return out
}

func skip(out outcome, reason string) outcome {
	out.action, out.reason = "skipped", reason
	return out
}

// current returns glint's record of id and its members, nil if none.
func (m *Migrator) current(ctx context.Context, id string) (*image.Image, []*image.Member, error) {
	cur, err := m.Records.GetImage(ctx, id)
	if errors.Is(err, image.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading glint's record: %w", err)
	}
	members, err := m.Records.ListMembers(ctx, id)
	if err != nil && !errors.Is(err, image.ErrNotFound) {
		return nil, nil, fmt.Errorf("reading glint's members: %w", err)
	}
	return cur, members, nil
}

// deleteImage records Glance's deletion in glint: the record as Glance
// deleted it, without data; data glint copied is removed, adopted data
// (Glance's own files) is left to Glance.
func (m *Migrator) deleteImage(ctx context.Context, g *glanceImage, cur *image.Image, opts Options, out outcome) outcome {
	out.action = "deleted"
	if opts.DryRun {
		return out
	}
	want, wantMembers, err := translate(g)
	if err != nil {
		return skip(out, err.Error())
	}
	want.Location = ""
	if err := m.Records.PutImage(ctx, want, wantMembers); err != nil {
		return skip(out, "recording the deletion: "+err.Error())
	}
	for _, loc := range cur.Locations() {
		store, key := splitLocation(loc)
		if _, adopted := m.Adopt[store]; adopted {
			continue
		}
		if d := m.Stores.Drivers[store]; d != nil {
			if err := d.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
				m.Log.Warn("removing a deleted image's copied data", "image_id", g.ID, "location", loc, "err", err)
			}
		}
	}
	return out
}

// translate turns Glance's row into glint's record (Location left for
// place) and members.
func translate(g *glanceImage) (*image.Image, []*image.Member, error) {
	if !g.CreatedAt.Valid {
		return nil, nil, errors.New("no created_at")
	}
	img := &image.Image{
		ID:              g.ID,
		Name:            nullable(g.Name.String, g.Name.Valid),
		Status:          image.Status(g.Status),
		Visibility:      image.Visibility(g.Visibility),
		Protected:       g.Protected,
		Hidden:          g.Hidden,
		MinDisk:         g.MinDisk,
		MinRAM:          g.MinRAM,
		DiskFormat:      nullable(g.DiskFormat.String, g.DiskFormat.Valid),
		ContainerFormat: nullable(g.ContainerFormat.String, g.ContainerFormat.Valid),
		Owner:           nullable(g.Owner.String, g.Owner.Valid),
		Size:            nullableInt(g.Size.Int64, g.Size.Valid),
		VirtualSize:     nullableInt(g.VirtualSize.Int64, g.VirtualSize.Valid),
		Checksum:        g.Checksum.String,
		HashAlgo:        g.HashAlgo.String,
		HashValue:       g.HashValue.String,
		CreatedAt:       g.CreatedAt.T,
		UpdatedAt:       g.CreatedAt.T,
		Tags:            append([]string{}, g.Tags...),
		Properties:      g.Properties,
	}
	if g.UpdatedAt.Valid {
		img.UpdatedAt = g.UpdatedAt.T
	}
	if !img.Visibility.Valid() {
		return nil, nil, fmt.Errorf("visibility %q is not one glint knows", g.Visibility)
	}
	if _, known := transitionsKnown[img.Status]; !known {
		return nil, nil, fmt.Errorf("status %q is not one glint knows", g.Status)
	}
	if g.Deleted {
		at := g.UpdatedAt.T
		if g.DeletedAt.Valid {
			at = g.DeletedAt.T
		}
		img.DeletedAt = &at
	}
	var members []*image.Member
	for _, gm := range g.Members {
		st := image.MemberStatus(gm.Status)
		if !st.Valid() {
			return nil, nil, fmt.Errorf("member %s has status %q", gm.Member, gm.Status)
		}
		mb := &image.Member{ImageID: g.ID, MemberID: gm.Member, Status: st, CreatedAt: gm.CreatedAt.T, UpdatedAt: gm.CreatedAt.T}
		if gm.UpdatedAt.Valid {
			mb.UpdatedAt = gm.UpdatedAt.T
		}
		members = append(members, mb)
	}
	sort.Slice(members, func(i, j int) bool {
		a, b := members[i], members[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.MemberID < b.MemberID
	})
	return img, members, nil
}

var transitionsKnown = map[image.Status]bool{
	image.StatusQueued: true, image.StatusSaving: true, image.StatusUploading: true, image.StatusImporting: true,
	image.StatusActive: true, image.StatusDeactivated: true, image.StatusKilled: true,
	image.StatusDeleted: true, image.StatusPendingDelete: true,
}

func nullable(s string, ok bool) *string {
	if !ok {
		return nil
	}
	return &s
}

func nullableInt(n int64, ok bool) *int64 {
	if !ok {
		return nil
	}
	return &n
}

// differences names the fields in which glint's record differs from the
// wanted one; none means the image is up to date.
func differences(cur *image.Image, curMembers []*image.Member, want *image.Image, wantMembers []*image.Member) []string {
	var d []string
	check := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			d = append(d, name)
		}
	}
	check("name", cur.Name, want.Name)
	check("status", cur.Status, want.Status)
	check("visibility", cur.Visibility, want.Visibility)
	check("protected", cur.Protected, want.Protected)
	check("os_hidden", cur.Hidden, want.Hidden)
	check("min_disk", cur.MinDisk, want.MinDisk)
	check("min_ram", cur.MinRAM, want.MinRAM)
	check("disk_format", cur.DiskFormat, want.DiskFormat)
	check("container_format", cur.ContainerFormat, want.ContainerFormat)
	check("owner", cur.Owner, want.Owner)
	check("size", cur.Size, want.Size)
	check("virtual_size", cur.VirtualSize, want.VirtualSize)
	check("checksum", cur.Checksum, want.Checksum)
	check("os_hash_algo", cur.HashAlgo, want.HashAlgo)
	check("os_hash_value", cur.HashValue, want.HashValue)
	check("location", cur.Location, want.Location)
	if !cur.CreatedAt.Equal(want.CreatedAt) {
		d = append(d, "created_at")
	}
	if !cur.UpdatedAt.Equal(want.UpdatedAt) {
		d = append(d, "updated_at")
	}
	if (cur.DeletedAt == nil) != (want.DeletedAt == nil) {
		d = append(d, "deleted")
	}
	if !sameProps(cur.Properties, want.Properties) {
		d = append(d, "properties")
	}
	if !sameSet(cur.Tags, want.Tags) {
		d = append(d, "tags")
	}
	if !sameMembers(curMembers, wantMembers) {
		d = append(d, "members")
	}
	return d
}

func sameProps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

func sameMembers(a, b []*image.Member) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(m *image.Member) string {
		return m.MemberID + "|" + string(m.Status) + "|" + m.CreatedAt.UTC().String() + "|" + m.UpdatedAt.UTC().String()
	}
	seen := map[string]bool{}
	for _, m := range a {
		seen[key(m)] = true
	}
	for _, m := range b {
		if !seen[key(m)] {
			return false
		}
	}
	return true
}
