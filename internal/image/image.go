// Package image owns the image domain: the image record, its status machine,
// sharing, and the Service that every front end (API, CLI, dashboard) calls.
//
// The package defines the two storage seams it consumes: Store (records) in
// store.go and, through internal/blob, the data driver. Implementations live
// elsewhere and run the shared conformance suites.
package image

import "time"

// Status is an image's lifecycle state, with Glance's names.
type Status string

const (
	StatusQueued        Status = "queued"
	StatusSaving        Status = "saving"
	StatusUploading     Status = "uploading"
	StatusImporting     Status = "importing"
	StatusActive        Status = "active"
	StatusDeactivated   Status = "deactivated"
	StatusKilled        Status = "killed"
	StatusDeleted       Status = "deleted"
	StatusPendingDelete Status = "pending_delete"
)

// transitions is Glance's state table (glance/domain Image.valid_state_targets):
// from a status, the statuses an image may move to.
var transitions = map[Status][]Status{
	StatusQueued:        {StatusSaving, StatusUploading, StatusImporting, StatusActive, StatusDeleted},
	StatusSaving:        {StatusActive, StatusKilled, StatusDeleted, StatusQueued},
	StatusUploading:     {StatusImporting, StatusQueued, StatusDeleted},
	StatusImporting:     {StatusActive, StatusDeleted, StatusQueued},
	StatusActive:        {StatusPendingDelete, StatusDeleted, StatusDeactivated},
	StatusDeactivated:   {StatusActive, StatusDeleted},
	StatusKilled:        {StatusDeleted},
	StatusPendingDelete: {StatusDeleted, StatusActive},
	StatusDeleted:       nil,
}

// CanTransition reports whether the status machine allows from → to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Visibility says who besides the owner may see an image.
type Visibility string

const (
	VisibilityPublic    Visibility = "public"
	VisibilityCommunity Visibility = "community"
	VisibilityShared    Visibility = "shared"
	VisibilityPrivate   Visibility = "private"
)

// Valid reports whether v is one of the four visibilities.
func (v Visibility) Valid() bool {
	switch v {
	case VisibilityPublic, VisibilityCommunity, VisibilityShared, VisibilityPrivate:
		return true
	}
	return false
}

// DiskFormats and ContainerFormats are Glance's default allowed lists
// ([image_format] disk_formats / container_formats).
var (
	DiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	ContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
)

// Image is one image record. Nullable API fields are pointers; the data
// fields (Checksum, HashAlgo, HashValue) use "" for null because they are
// never set to an empty string.
type Image struct {
	ID              string
	Name            *string
	Status          Status
	Visibility      Visibility
	Protected       bool
	Hidden          bool // os_hidden
	MinDisk         int64
	MinRAM          int64
	DiskFormat      *string
	ContainerFormat *string
	Owner           *string
	Size            *int64
	VirtualSize     *int64
	Checksum        string // md5 hex
	HashAlgo        string // os_hash_algo
	HashValue       string // os_hash_value
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DeletedAt       *time.Time
	Tags            []string
	Properties      map[string]string
	// Location is the blob key of the image data, "" when there is none.
	// It is internal and never shown to API clients.
	Location string
}

// IsDeleted reports whether the record is soft-deleted.
func (img *Image) IsDeleted() bool { return img.DeletedAt != nil }

// OwnedBy reports whether project owns the image.
func (img *Image) OwnedBy(project string) bool {
	return img.Owner != nil && project != "" && *img.Owner == project
}

// MemberStatus is a member project's answer to a share.
type MemberStatus string

const (
	MemberPending  MemberStatus = "pending"
	MemberAccepted MemberStatus = "accepted"
	MemberRejected MemberStatus = "rejected"
)

// Valid reports whether s is one of the three member statuses.
func (s MemberStatus) Valid() bool {
	return s == MemberPending || s == MemberAccepted || s == MemberRejected
}

// Member is one project an image is shared with.
type Member struct {
	ImageID   string
	MemberID  string // the project id
	Status    MemberStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UploadResult is what a finished upload records on the image.
type UploadResult struct {
	Size      int64
	Checksum  string
	HashAlgo  string
	HashValue string
	// VirtualSize is what the format inspector found, nil when unknown.
	VirtualSize *int64
	Location    string
}
