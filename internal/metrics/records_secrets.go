package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/keymanager"
)

// The keymanager.Store methods of Records: each times one call.

func (rec *Records) CreateSecret(ctx context.Context, s *keymanager.Secret) error {
	defer rec.observe("CreateSecret", time.Now())
	return rec.secrets.CreateSecret(ctx, s)
}

func (rec *Records) GetSecret(ctx context.Context, id string) (*keymanager.Secret, error) {
	defer rec.observe("GetSecret", time.Now())
	return rec.secrets.GetSecret(ctx, id)
}

func (rec *Records) ListSecrets(ctx context.Context, q keymanager.ListQuery) ([]*keymanager.Secret, int, error) {
	defer rec.observe("ListSecrets", time.Now())
	return rec.secrets.ListSecrets(ctx, q)
}

func (rec *Records) DeleteSecret(ctx context.Context, id string) error {
	defer rec.observe("DeleteSecret", time.Now())
	return rec.secrets.DeleteSecret(ctx, id)
}
