package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// The image.Store methods of Records: each times one call.

func (rec *Records) CreateImage(ctx context.Context, img *image.Image) error {
	defer rec.observe("CreateImage", time.Now())
	return rec.images.CreateImage(ctx, img)
}

func (rec *Records) GetImage(ctx context.Context, id string) (*image.Image, error) {
	defer rec.observe("GetImage", time.Now())
	return rec.images.GetImage(ctx, id)
}

func (rec *Records) ListImages(ctx context.Context, q image.ListQuery) ([]*image.Image, error) {
	defer rec.observe("ListImages", time.Now())
	return rec.images.ListImages(ctx, q)
}

func (rec *Records) CountImages(ctx context.Context, q image.ListQuery, max int) (int, error) {
	defer rec.observe("CountImages", time.Now())
	return rec.images.CountImages(ctx, q, max)
}

func (rec *Records) SaveImage(ctx context.Context, img *image.Image, ifStatus image.Status, ifUpdatedAt time.Time) error {
	defer rec.observe("SaveImage", time.Now())
	return rec.images.SaveImage(ctx, img, ifStatus, ifUpdatedAt)
}

func (rec *Records) SetStatus(ctx context.Context, id string, from image.Status, to image.Status, at time.Time) error {
	defer rec.observe("SetStatus", time.Now())
	return rec.images.SetStatus(ctx, id, from, to, at)
}

func (rec *Records) FinishUpload(ctx context.Context, id string, r image.UploadResult, at time.Time) error {
	defer rec.observe("FinishUpload", time.Now())
	return rec.images.FinishUpload(ctx, id, r, at)
}

func (rec *Records) DeleteImage(ctx context.Context, id string, at time.Time) (*image.Image, error) {
	defer rec.observe("DeleteImage", time.Now())
	return rec.images.DeleteImage(ctx, id, at)
}

func (rec *Records) AddTag(ctx context.Context, id string, tag string, at time.Time) error {
	defer rec.observe("AddTag", time.Now())
	return rec.images.AddTag(ctx, id, tag, at)
}

func (rec *Records) RemoveTag(ctx context.Context, id string, tag string, at time.Time) error {
	defer rec.observe("RemoveTag", time.Now())
	return rec.images.RemoveTag(ctx, id, tag, at)
}

func (rec *Records) AddMember(ctx context.Context, m *image.Member) error {
	defer rec.observe("AddMember", time.Now())
	return rec.images.AddMember(ctx, m)
}

func (rec *Records) GetMember(ctx context.Context, imageID string, memberID string) (*image.Member, error) {
	defer rec.observe("GetMember", time.Now())
	return rec.images.GetMember(ctx, imageID, memberID)
}

func (rec *Records) ListMembers(ctx context.Context, imageID string) ([]*image.Member, error) {
	defer rec.observe("ListMembers", time.Now())
	return rec.images.ListMembers(ctx, imageID)
}

func (rec *Records) UpdateMember(ctx context.Context, m *image.Member) error {
	defer rec.observe("UpdateMember", time.Now())
	return rec.images.UpdateMember(ctx, m)
}

func (rec *Records) DeleteMember(ctx context.Context, imageID string, memberID string) error {
	defer rec.observe("DeleteMember", time.Now())
	return rec.images.DeleteMember(ctx, imageID, memberID)
}

func (rec *Records) Stranded(ctx context.Context) ([]*image.Image, error) {
	defer rec.observe("Stranded", time.Now())
	return rec.images.Stranded(ctx)
}

func (rec *Records) DeletedWithData(ctx context.Context) ([]*image.Image, error) {
	defer rec.observe("DeletedWithData", time.Now())
	return rec.images.DeletedWithData(ctx)
}

func (rec *Records) ClearLocation(ctx context.Context, id string) error {
	defer rec.observe("ClearLocation", time.Now())
	return rec.images.ClearLocation(ctx, id)
}

func (rec *Records) LockImport(ctx context.Context, id string, taskID string, at time.Time) error {
	defer rec.observe("LockImport", time.Now())
	return rec.images.LockImport(ctx, id, taskID, at)
}

func (rec *Records) UpdateImport(ctx context.Context, id string, taskID string, u image.ImportUpdate, at time.Time) error {
	defer rec.observe("UpdateImport", time.Now())
	return rec.images.UpdateImport(ctx, id, taskID, u, at)
}

func (rec *Records) Imports(ctx context.Context) ([]*image.Image, error) {
	defer rec.observe("Imports", time.Now())
	return rec.images.Imports(ctx)
}

func (rec *Records) ProjectUsage(ctx context.Context, project string) (image.Usage, error) {
	defer rec.observe("ProjectUsage", time.Now())
	return rec.images.ProjectUsage(ctx, project)
}

func (rec *Records) ProjectLimits(ctx context.Context, project string) (map[string]int64, error) {
	defer rec.observe("ProjectLimits", time.Now())
	return rec.images.ProjectLimits(ctx, project)
}

func (rec *Records) SetProjectLimit(ctx context.Context, project string, name string, limit int64) error {
	defer rec.observe("SetProjectLimit", time.Now())
	return rec.images.SetProjectLimit(ctx, project, name, limit)
}

func (rec *Records) DeleteProjectLimits(ctx context.Context, project string) error {
	defer rec.observe("DeleteProjectLimits", time.Now())
	return rec.images.DeleteProjectLimits(ctx, project)
}

func (rec *Records) LockProject(ctx context.Context, project string) (func(), error) {
	defer rec.observe("LockProject", time.Now())
	return rec.images.LockProject(ctx, project)
}

func (rec *Records) Close() error {
	defer rec.observe("Close", time.Now())
	return rec.images.Close()
}

func (rec *Records) SavePartial(ctx context.Context, p *image.Partial) error {
	defer rec.observe("SavePartial", time.Now())
	return rec.images.SavePartial(ctx, p)
}

func (rec *Records) GetPartial(ctx context.Context, imageID string) (*image.Partial, error) {
	defer rec.observe("GetPartial", time.Now())
	return rec.images.GetPartial(ctx, imageID)
}

func (rec *Records) DeletePartial(ctx context.Context, imageID string, updatedAt time.Time) error {
	defer rec.observe("DeletePartial", time.Now())
	return rec.images.DeletePartial(ctx, imageID, updatedAt)
}

func (rec *Records) StalePartials(ctx context.Context, now time.Time, limit int) ([]*image.Partial, error) {
	defer rec.observe("StalePartials", time.Now())
	return rec.images.StalePartials(ctx, now, limit)
}
