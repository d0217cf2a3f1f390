package notify

import (
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/task"
)

// isoTime is Glance's timeutils.isotime: seconds, Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func isoTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// imagePayload is Glance's format_image_notification: no locations, no
// os_hash_*, no os_hidden.
type imagePayload struct {
	ID              string            `json:"id"`
	Name            *string           `json:"name"`
	Status          string            `json:"status"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
	MinDisk         int64             `json:"min_disk"`
	MinRAM          int64             `json:"min_ram"`
	Protected       bool              `json:"protected"`
	Checksum        *string           `json:"checksum"`
	Owner           *string           `json:"owner"`
	DiskFormat      *string           `json:"disk_format"`
	ContainerFormat *string           `json:"container_format"`
	Size            *int64            `json:"size"`
	VirtualSize     *int64            `json:"virtual_size"`
	IsPublic        bool              `json:"is_public"`
	Visibility      string            `json:"visibility"`
	Properties      map[string]string `json:"properties"`
	Tags            []string          `json:"tags"`
	Deleted         bool              `json:"deleted"`
	DeletedAt       *string           `json:"deleted_at"`
}

func imageOf(img *image.Image) imagePayload {
	props := img.Properties
	if props == nil {
		props = map[string]string{}
	}
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	return imagePayload{ID: img.ID, Name: img.Name, Status: string(img.Status), CreatedAt: isoTime(img.CreatedAt),
		UpdatedAt: isoTime(img.UpdatedAt), MinDisk: img.MinDisk, MinRAM: img.MinRAM, Protected: img.Protected,
		Checksum: nullable(img.Checksum), Owner: img.Owner, DiskFormat: img.DiskFormat, ContainerFormat: img.ContainerFormat,
		Size: img.Size, VirtualSize: img.VirtualSize, IsPublic: img.Visibility == image.VisibilityPublic, Visibility: string(img.Visibility),
		Properties: props, Tags: tags, Deleted: img.IsDeleted(), DeletedAt: isoTimePtr(img.DeletedAt)}
}

// preparePayload is image.prepare's: the image plus the import's store
// lists.
type preparePayload struct {
	imagePayload
	ImportingTo  []string `json:"os_glance_importing_to_stores"`
	FailedImport []string `json:"os_glance_failed_import"`
}

func prepareOf(img *image.Image) preparePayload {
	list := func(name string) []string {
		out := []string{}
		for _, s := range strings.Split(img.Properties[name], ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return preparePayload{imagePayload: imageOf(img), ImportingTo: list("os_glance_importing_to_stores"),
		FailedImport: list("os_glance_failed_import")}
}

// sendPayload is image.send's.
type sendPayload struct {
	BytesSent        int64   `json:"bytes_sent"`
	ImageID          string  `json:"image_id"`
	OwnerID          *string `json:"owner_id"`
	ReceiverTenantID string  `json:"receiver_tenant_id"`
	ReceiverUserID   string  `json:"receiver_user_id"`
	// DestinationIP is only in the notifications of cache hits.
	DestinationIP string `json:"destination_ip,omitempty"`
}

// memberPayload is image.member.*'s.
type memberPayload struct {
	ImageID   string  `json:"image_id"`
	MemberID  string  `json:"member_id"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
	Deleted   bool    `json:"deleted"`
	DeletedAt *string `json:"deleted_at"`
}

func memberOf(m *image.Member, deletedAt *time.Time) memberPayload {
	return memberPayload{ImageID: m.ImageID, MemberID: m.MemberID, Status: string(m.Status), CreatedAt: isoTime(m.CreatedAt),
		UpdatedAt: isoTime(m.UpdatedAt), Deleted: deletedAt != nil, DeletedAt: isoTimePtr(deletedAt)}
}

// taskPayload is task.*'s. As in Glance, result and message are always
// null, and a task without an expiry shows the current time as
// expires_at (timeutils.isotime(None)).
type taskPayload struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	Status    string  `json:"status"`
	Result    any     `json:"result"`
	Owner     string  `json:"owner"`
	Message   any     `json:"message"`
	ExpiresAt string  `json:"expires_at"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
	Deleted   bool    `json:"deleted"`
	DeletedAt *string `json:"deleted_at"`
}

func taskOf(t *task.Task, now time.Time) taskPayload {
	expires := now
	if t.ExpiresAt != nil {
		expires = *t.ExpiresAt
	}
	return taskPayload{ID: t.ID, Type: t.Type, Status: string(t.Status), Owner: t.Owner, ExpiresAt: isoTime(expires),
		CreatedAt: isoTime(t.CreatedAt), UpdatedAt: isoTime(t.UpdatedAt)}
}
