package image

import (
	"errors"
	"testing"

	"github.com/glint-image/glint/internal/caller"
)

// The domain rules, tested directly: the status machine, the patch rules
// and the import preconditions, which the API suite reaches only end to
// end.

func TestStatusMachine(t *testing.T) {
	all := []Status{StatusQueued, StatusSaving, StatusUploading, StatusImporting, StatusActive,
		StatusDeactivated, StatusKilled, StatusDeleted, StatusPendingDelete}
	// Glance's valid_state_targets, written out as pairs.
	allowed := map[[2]Status]bool{}
	for _, p := range [][2]Status{
		{StatusQueued, StatusSaving}, {StatusQueued, StatusUploading}, {StatusQueued, StatusImporting},
		{StatusQueued, StatusActive}, {StatusQueued, StatusDeleted},
		{StatusSaving, StatusActive}, {StatusSaving, StatusKilled}, {StatusSaving, StatusDeleted}, {StatusSaving, StatusQueued},
		{StatusUploading, StatusImporting}, {StatusUploading, StatusQueued}, {StatusUploading, StatusDeleted},
		{StatusImporting, StatusActive}, {StatusImporting, StatusDeleted}, {StatusImporting, StatusQueued},
		{StatusActive, StatusPendingDelete}, {StatusActive, StatusDeleted}, {StatusActive, StatusDeactivated},
		{StatusDeactivated, StatusActive}, {StatusDeactivated, StatusDeleted},
		{StatusKilled, StatusDeleted},
		{StatusPendingDelete, StatusDeleted}, {StatusPendingDelete, StatusActive},
	} {
		allowed[p] = true
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanTransition(from, to); got != allowed[[2]Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func str(s string) *string { return &s }

func TestPatchRules(t *testing.T) {
	member := caller.Principal{ProjectID: "p", Roles: []string{"member"}}
	admin := caller.Principal{ProjectID: "p", Roles: []string{"admin"}}
	queued := func() *Image {
		return &Image{ID: "i", Status: StatusQueued, Owner: str("p"), DiskFormat: str("raw"), ContainerFormat: str("bare"),
			Properties: map[string]string{"os_distro": "debian"}}
	}
	active := func() *Image { img := queued(); img.Status = StatusActive; return img }
	cases := []struct {
		name   string
		who    caller.Principal
		img    func() *Image
		change Change
		kind   error // nil: applies
		detail bool  // Glance words the message as a detail
		check  func(*Image) bool
	}{
		{"replace name", member, queued, Change{Op: "replace", Attr: "name", Value: "n"}, nil, false,
			func(img *Image) bool { return img.Name != nil && *img.Name == "n" }},
		{"add a property", member, queued, Change{Op: "add", Attr: "hw_disk_bus", Value: "scsi"}, nil, false,
			func(img *Image) bool { return img.Properties["hw_disk_bus"] == "scsi" }},
		{"add replaces in v2.1", member, queued, Change{Op: "add", Attr: "os_distro", Value: "ubuntu"}, nil, false,
			func(img *Image) bool { return img.Properties["os_distro"] == "ubuntu" }},
		{"add of a present property in v2.0", member, queued, Change{Op: "add", Attr: "os_distro", Value: "x", Strict: true}, ErrConflict, true, nil},
		{"remove a property", member, queued, Change{Op: "remove", Attr: "os_distro"}, nil, false,
			func(img *Image) bool { _, ok := img.Properties["os_distro"]; return !ok }},
		{"remove a missing property", member, queued, Change{Op: "remove", Attr: "nope"}, ErrConflict, true, nil},
		{"replace a missing property", member, queued, Change{Op: "replace", Attr: "nope", Value: "x"}, ErrConflict, true, nil},
		{"remove a core attribute", member, queued, Change{Op: "remove", Attr: "name"}, ErrForbidden, true, nil},
		{"id is read-only", member, queued, Change{Op: "replace", Attr: "id", Value: "x"}, ErrForbidden, false, nil},
		{"status is read-only", member, queued, Change{Op: "replace", Attr: "status", Value: "active"}, ErrForbidden, false, nil},
		{"reserved os_glance prefix", member, queued, Change{Op: "add", Attr: "os_glance_x", Value: "y"}, ErrForbidden, true, nil},
		{"owner by a member", member, queued, Change{Op: "replace", Attr: "owner", Value: "q"}, ErrForbidden, true, nil},
		{"owner by an admin", admin, queued, Change{Op: "replace", Attr: "owner", Value: "q"}, nil, false,
			func(img *Image) bool { return img.Owner != nil && *img.Owner == "q" }},
		{"disk_format of a queued image", member, queued, Change{Op: "replace", Attr: "disk_format", Value: "qcow2"}, nil, false,
			func(img *Image) bool { return *img.DiskFormat == "qcow2" }},
		{"disk_format of an active image", member, active, Change{Op: "replace", Attr: "disk_format", Value: "qcow2"}, ErrForbidden, false, nil},
		{"same disk_format of an active image", member, active, Change{Op: "replace", Attr: "disk_format", Value: "raw"}, nil, false, nil},
		{"unknown disk_format", member, queued, Change{Op: "replace", Attr: "disk_format", Value: "floppy"}, ErrInvalid, false, nil},
		{"negative min_ram", member, queued, Change{Op: "replace", Attr: "min_ram", Value: float64(-1)}, ErrInvalid, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.img()
			err := applyChanges(c.who, img, []Change{c.change})
			if c.kind == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.check != nil && !c.check(img) {
					t.Fatalf("not applied: %+v", img)
				}
				return
			}
			var de *Error
			if !errors.Is(err, c.kind) || !errors.As(err, &de) {
				t.Fatalf("error %v, want a domain error of kind %v", err, c.kind)
			}
			if de.Detail != c.detail {
				t.Errorf("%q: Detail %v, want %v", de.Msg, de.Detail, c.detail)
			}
		})
	}
}

func TestImportPreconditions(t *testing.T) {
	img := func(st Status) *Image {
		return &Image{Status: st, DiskFormat: str("raw"), ContainerFormat: str("bare")}
	}
	noFormat := &Image{Status: StatusQueued, ContainerFormat: str("bare")}
	const remote = "a8f1c5c2-6a7e-4d55-9d0e-4b5d1c0e6f11"
	cases := []struct {
		name string
		img  *Image
		req  ImportRequest
		kind error
	}{
		{"web-download of a queued image", img(StatusQueued), ImportRequest{Method: MethodWebDownload}, nil},
		{"web-download of an uploading image", img(StatusUploading), ImportRequest{Method: MethodWebDownload}, ErrConflict},
		{"glance-direct after staging", img(StatusUploading), ImportRequest{Method: MethodGlanceDirect}, nil},
		{"glance-direct before staging", img(StatusQueued), ImportRequest{Method: MethodGlanceDirect}, ErrConflict},
		{"import into an active image", img(StatusActive), ImportRequest{Method: MethodWebDownload}, ErrConflict},
		{"copy-image of an active image", img(StatusActive), ImportRequest{Method: MethodCopyImage}, nil},
		{"copy-image of a queued image", img(StatusQueued), ImportRequest{Method: MethodCopyImage}, ErrConflict},
		{"no disk_format", noFormat, ImportRequest{Method: MethodWebDownload}, ErrConflict},
		{"glance-download without a region", img(StatusQueued), ImportRequest{Method: MethodGlanceDownload, GlanceImageID: remote}, ErrInvalid},
		{"glance-download without an image", img(StatusQueued), ImportRequest{Method: MethodGlanceDownload, GlanceRegion: "r"}, ErrInvalid},
		{"glance-download of a non-UUID", img(StatusQueued), ImportRequest{Method: MethodGlanceDownload, GlanceRegion: "r", GlanceImageID: "x"}, ErrInvalid},
		{"glance-download", img(StatusQueued), ImportRequest{Method: MethodGlanceDownload, GlanceRegion: "r", GlanceImageID: remote}, nil},
	}
	for _, c := range cases {
		err := checkImportable(c.img, &c.req)
		if c.kind == nil && err != nil || c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
	// glance-download defaults to the public interface, in the task's
	// record of the request too.
	req := ImportRequest{Method: MethodGlanceDownload, GlanceRegion: "r", GlanceImageID: remote,
		Body: map[string]any{"method": map[string]any{"name": MethodGlanceDownload}}}
	if err := checkImportable(img(StatusQueued), &req); err != nil {
		t.Fatal(err)
	}
	if req.GlanceServiceInterface != "public" || req.Body["method"].(map[string]any)["glance_service_interface"] != "public" {
		t.Errorf("interface %q, body %v", req.GlanceServiceInterface, req.Body)
	}
}

func TestByteRanges(t *testing.T) {
	cases := []struct {
		rng            *ByteRange
		size           int64
		offset, length int64
		bad            bool
	}{
		{nil, 10, 0, 10, false},
		{&ByteRange{Start: 2, End: 4}, 10, 2, 3, false},
		{&ByteRange{Start: 2, End: -1}, 10, 2, 8, false},
		{&ByteRange{Start: 2, End: 99}, 10, 2, 8, false},
		{&ByteRange{Suffix: 3}, 10, 7, 3, false},
		{&ByteRange{Suffix: 30}, 10, 0, 10, false},
		{&ByteRange{Start: 10, End: -1}, 10, 0, 0, true},
		{&ByteRange{Start: 5, End: 4}, 10, 0, 0, true},
		{&ByteRange{Suffix: 3}, 0, 0, 0, true},
	}
	for _, c := range cases {
		off, n, err := resolveRange(c.rng, c.size)
		if c.bad {
			if !errors.Is(err, ErrRange) {
				t.Errorf("%+v of %d: %v, want ErrRange", c.rng, c.size, err)
			}
			continue
		}
		if err != nil || off != c.offset || n != c.length {
			t.Errorf("%+v of %d: %d+%d %v, want %d+%d", c.rng, c.size, off, n, err, c.offset, c.length)
		}
	}
}

func TestQuotaLimits(t *testing.T) {
	for limits, ok := range map[*map[string]int64]bool{
		{QuotaImageSizeTotal: 10, QuotaImageCountTotal: Unlimited}: true,
		{QuotaImageStageTotal: 0}:                                  true,
		{QuotaImageSizeTotal: -2}:                                  false,
		{"image_size": 1}:                                          false,
	} {
		err := ValidateLimits(*limits)
		if ok != (err == nil) || !ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", *limits, err)
		}
	}
}
