package image

import (
	"context"
	"time"
)

// Store keeps image records, their properties, tags and members. It is the
// seam between the domain and a database; internal/image/imagetest is the
// conformance suite every implementation runs.
//
// Rules every implementation follows:
//   - a missing record (or one soft-deleted, where stated) is ErrNotFound,
//     never (nil, nil);
//   - conditional writes ("where status = from") that find the row has moved
//     on return ErrConflict and change nothing;
//   - times are stored and returned in UTC with at least microsecond
//     precision, so ordering and markers are stable.
type Store interface {
	// CreateImage inserts img with its properties and tags. An id already
	// used, even by a deleted image, is ErrDuplicate.
	CreateImage(ctx context.Context, img *Image) error

	// GetImage returns the image with its properties and tags, including a
	// soft-deleted one (IsDeleted true): the caller decides who may see it.
	GetImage(ctx context.Context, id string) (*Image, error)

	// ListImages returns the images matching q, never deleted or killed
	// ones, in q.Sort order, at most q.Limit of them, starting after
	// q.Marker. An unknown or deleted marker is ErrNotFound. The images
	// are the caller's to read but not to modify: a store may share their
	// properties, tags and optional fields with its cache of records.
	ListImages(ctx context.Context, q ListQuery) ([]*Image, error)

	// CountImages counts the images ListImages would list for q (without
	// its marker and limit), reading at most max+1 of them: it returns
	// max+1 when there are more than max.
	CountImages(ctx context.Context, q ListQuery, max int) (int, error)

	// SaveImage writes the attributes a client may change (name, visibility,
	// protected, os_hidden, min_disk, min_ram, disk_format,
	// container_format, owner, properties, tags; updated_at = img.UpdatedAt)
	// if the stored status still equals ifStatus, the stored updated_at
	// still equals ifUpdatedAt (nothing wrote since the caller read it)
	// and the image is not deleted; otherwise ErrConflict (ErrNotFound when
	// missing). Properties and tags are replaced as whole sets.
	SaveImage(ctx context.Context, img *Image, ifStatus Status, ifUpdatedAt time.Time) error

	// SetStatus moves an image from one status to another (compare and
	// set; ErrConflict if the stored status is not from or the image is
	// deleted). Moving to queued also clears size, virtual_size, checksum,
	// os_hash_algo, os_hash_value and location.
	SetStatus(ctx context.Context, id string, from, to Status, at time.Time) error

	// FinishUpload records data on an image in status saving and makes it
	// active, in one write; ErrConflict if the image is no longer saving.
	FinishUpload(ctx context.Context, id string, r UploadResult, at time.Time) error

	// DeleteImage soft-deletes an image that is not yet deleted: status
	// deleted, deleted_at set, properties kept. It returns the record as it
	// was just before, so the caller can remove its data. ErrNotFound when
	// missing or already deleted.
	DeleteImage(ctx context.Context, id string, at time.Time) (*Image, error)

	// AddTag adds one tag (idempotent); RemoveTag removes one, ErrNotFound
	// if absent. Both touch updated_at. ErrNotFound for a missing or
	// deleted image.
	AddTag(ctx context.Context, id, tag string, at time.Time) error
	RemoveTag(ctx context.Context, id, tag string, at time.Time) error

	// Members. AddMember of an existing (image, member) pair is
	// ErrDuplicate. GetMember, UpdateMember and DeleteMember of a missing
	// pair are ErrNotFound. ListMembers orders by created_at, member id.
	AddMember(ctx context.Context, m *Member) error
	GetMember(ctx context.Context, imageID, memberID string) (*Member, error)
	ListMembers(ctx context.Context, imageID string) ([]*Member, error)
	UpdateMember(ctx context.Context, m *Member) error
	DeleteMember(ctx context.Context, imageID, memberID string) error

	// Recovery after a crash: Stranded lists images left in a status that
	// only a running request can leave (saving); DeletedWithData lists
	// deleted images whose location is still set, and ClearLocation
	// forgets the location once the data is gone.
	Stranded(ctx context.Context) ([]*Image, error)
	DeletedWithData(ctx context.Context) ([]*Image, error)
	ClearLocation(ctx context.Context, id string) error

	// Import. LockImport takes a live image's import lock: it sets the
	// property os_glance_import_task to taskID, or fails with
	// ErrConflict when it is set already. UpdateImport applies u as one
	// write if the image still holds taskID's lock ("" for no lock
	// condition) and is in one of u.IfStatus (any status when empty);
	// ErrConflict otherwise, ErrNotFound for a missing or deleted image.
	// Imports lists, for recovery, the live images being staged or
	// imported (uploading, importing) or holding an import lock, oldest
	// first.
	LockImport(ctx context.Context, id, taskID string, at time.Time) error
	UpdateImport(ctx context.Context, id, taskID string, u ImportUpdate, at time.Time) error
	Imports(ctx context.Context) ([]*Image, error)

	// Quotas. ProjectUsage counts what a project's images use (see
	// Usage). ProjectLimits returns a project's overrides (name → limit),
	// empty when it has none; SetProjectLimit sets one; DeleteProjectLimits
	// drops them all.
	ProjectUsage(ctx context.Context, project string) (Usage, error)
	ProjectLimits(ctx context.Context, project string) (map[string]int64, error)
	SetProjectLimit(ctx context.Context, project, name string, limit int64) error
	DeleteProjectLimits(ctx context.Context, project string) error
	// LockProject serialises quota check-and-act steps of one project
	// across every process sharing the store, until unlock is called.
	LockProject(ctx context.Context, project string) (unlock func(), err error)

	// Shared data (sharing.go).
	DataRefs
	// Partial uploads (resumable uploads, partial.go).
	PartialStore

	Close() error
}

// ListQuery describes one page of an image listing. Visibility rules are
// applied by the store, in the query, from Caller.
type ListQuery struct {
	Caller Scope

	// Visibility is "" (the default listing), "all", or one visibility.
	Visibility string
	// MemberStatus is the membership status that makes a shared image
	// appear for a non-admin caller: "accepted" by default, or "pending",
	// "rejected", "all". Ignored for admins.
	MemberStatus string
	// Hidden filters on os_hidden; nil means no filter (the service sets
	// false by default, as Glance does).
	Hidden *bool
	// Protected filters on protected when set.
	Protected *bool

	// Filters are conditions on core columns, ANDed.
	Filters []Filter
	// Properties are extra-property equality filters, ANDed.
	Properties map[string]string
	// Tags: the image must carry every one.
	Tags []string

	// Sort keys in order; the store appends created_at desc and id desc as
	// tie-breakers when absent (with the direction of the last key).
	Sort   []SortKey
	Marker string
	Limit  int
}

// Scope is who is asking, as far as the store's visibility rules care.
type Scope struct {
	Project string
	Admin   bool
}

// Filter is one condition on a core column.
//
// Field is one of the FilterFields. Op is "eq", "neq", "in", "gt", "gte",
// "lt", "lte", or, for names only, "prefix" (names that start with the
// value: a range of the name index) and "contains" (names that hold it:
// a bounded scan, see sqlstore's containsScan); those two are glint's
// in-process extensions, never parsed from the public API. Values holds
// one value, or several for "in". Values of
// integer columns are decimal strings; of created_at/updated_at, RFC 3339
// timestamps; of protected/os_hidden, "true"/"false".
type Filter struct {
	Field  string
	Op     string
	Values []string
}

// FilterFields are the core columns a Filter may name.
var FilterFields = []string{
	"id", "name", "status", "visibility", "owner", "disk_format", "container_format",
	"checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram",
	"created_at", "updated_at",
}

// SortKey is one ordering column and its direction.
type SortKey struct {
	Key  string // one of SortKeys
	Desc bool
}

// SortKeys are Glance's allowed sort keys, in the order its error lists them.
var SortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// ImportLock is the property that holds an image's import lock (the id of
// the task importing it), as in Glance.
const ImportLock = "os_glance_import_task"

// ImportUpdate is one step of an import written to an image record.
// Nil and empty fields leave the record alone.
type ImportUpdate struct {
	// IfStatus: the image must be in one of these.
	IfStatus []Status
	// Status moves the image; to queued it also clears the data fields
	// and locations, as SetStatus does.
	Status Status
	// SetProps and DelProps change properties (set wins over delete).
	SetProps map[string]string
	DelProps []string
	// The data of the image, recorded once it is in a store.
	Size, VirtualSize             *int64
	Checksum, HashAlgo, HashValue string
	// A conversion changes the formats.
	DiskFormat, ContainerFormat *string
	// AddLocations and RemoveLocations change the location list (the
	// stores holding the data).
	AddLocations, RemoveLocations []string
	// SetLocations, when not nil, replaces the whole list (the locations
	// API's ordered insert and its replace), applied only while the list
	// is still IfLocation: a change made meanwhile is a conflict, never
	// lost.
	SetLocations []string
	IfLocation   string
}
