package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/image"
)

func (rec *Records) FinishShared(ctx context.Context, id string, r image.UploadResult, at time.Time) (string, error) {
	defer rec.observe("FinishShared", time.Now())
	return rec.images.FinishShared(ctx, id, r, at)
}

func (rec *Records) ImportShared(ctx context.Context, id, taskID string, u image.ImportUpdate, r image.UploadResult, at time.Time) (string, error) {
	defer rec.observe("ImportShared", time.Now())
	return rec.images.ImportShared(ctx, id, taskID, u, r, at)
}

func (rec *Records) ReleaseData(ctx context.Context, id, location string) (bool, error) {
	defer rec.observe("ReleaseData", time.Now())
	return rec.images.ReleaseData(ctx, id, location)
}

func (rec *Records) DataReferences(ctx context.Context, location string) (int64, error) {
	defer rec.observe("DataReferences", time.Now())
	return rec.images.DataReferences(ctx, location)
}

func (rec *Records) DataSharing(ctx context.Context) ([]image.StoreSharing, error) {
	defer rec.observe("DataSharing", time.Now())
	return rec.images.DataSharing(ctx)
}
