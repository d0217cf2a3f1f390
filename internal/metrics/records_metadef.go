package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/metadef"
)

// The metadef.Store methods of Records: each times one call.

func (rec *Records) GetNamespace(ctx context.Context, name string) (*metadef.Namespace, error) {
	defer rec.observe("GetNamespace", time.Now())
	return rec.metadefs.GetNamespace(ctx, name)
}

func (rec *Records) ListNamespaces(ctx context.Context, q metadef.NamespaceQuery) ([]*metadef.Definition, error) {
	defer rec.observe("ListNamespaces", time.Now())
	return rec.metadefs.ListNamespaces(ctx, q)
}

func (rec *Records) GetDefinition(ctx context.Context, name string) (*metadef.Definition, error) {
	defer rec.observe("GetDefinition", time.Now())
	return rec.metadefs.GetDefinition(ctx, name)
}

func (rec *Records) CreateDefinition(ctx context.Context, d *metadef.Definition) error {
	defer rec.observe("CreateDefinition", time.Now())
	return rec.metadefs.CreateDefinition(ctx, d)
}

func (rec *Records) UpdateNamespace(ctx context.Context, name string, ns *metadef.Namespace) error {
	defer rec.observe("UpdateNamespace", time.Now())
	return rec.metadefs.UpdateNamespace(ctx, name, ns)
}

func (rec *Records) DeleteNamespace(ctx context.Context, name string) error {
	defer rec.observe("DeleteNamespace", time.Now())
	return rec.metadefs.DeleteNamespace(ctx, name)
}

func (rec *Records) DeleteContent(ctx context.Context, name string, part metadef.Part) error {
	defer rec.observe("DeleteContent", time.Now())
	return rec.metadefs.DeleteContent(ctx, name, part)
}

func (rec *Records) ListObjects(ctx context.Context, ns string) ([]metadef.Object, error) {
	defer rec.observe("ListObjects", time.Now())
	return rec.metadefs.ListObjects(ctx, ns)
}

func (rec *Records) GetObject(ctx context.Context, ns string, name string) (*metadef.Object, error) {
	defer rec.observe("GetObject", time.Now())
	return rec.metadefs.GetObject(ctx, ns, name)
}

func (rec *Records) CreateObject(ctx context.Context, ns string, o *metadef.Object) error {
	defer rec.observe("CreateObject", time.Now())
	return rec.metadefs.CreateObject(ctx, ns, o)
}

func (rec *Records) UpdateObject(ctx context.Context, ns string, name string, o *metadef.Object) error {
	defer rec.observe("UpdateObject", time.Now())
	return rec.metadefs.UpdateObject(ctx, ns, name, o)
}

func (rec *Records) DeleteObject(ctx context.Context, ns string, name string) error {
	defer rec.observe("DeleteObject", time.Now())
	return rec.metadefs.DeleteObject(ctx, ns, name)
}

func (rec *Records) ListProperties(ctx context.Context, ns string) ([]metadef.Property, error) {
	defer rec.observe("ListProperties", time.Now())
	return rec.metadefs.ListProperties(ctx, ns)
}

func (rec *Records) GetProperty(ctx context.Context, ns string, name string) (*metadef.Property, error) {
	defer rec.observe("GetProperty", time.Now())
	return rec.metadefs.GetProperty(ctx, ns, name)
}

func (rec *Records) CreateProperty(ctx context.Context, ns string, p *metadef.Property) error {
	defer rec.observe("CreateProperty", time.Now())
	return rec.metadefs.CreateProperty(ctx, ns, p)
}

func (rec *Records) UpdateProperty(ctx context.Context, ns string, name string, p *metadef.Property) error {
	defer rec.observe("UpdateProperty", time.Now())
	return rec.metadefs.UpdateProperty(ctx, ns, name, p)
}

func (rec *Records) DeleteProperty(ctx context.Context, ns string, name string) error {
	defer rec.observe("DeleteProperty", time.Now())
	return rec.metadefs.DeleteProperty(ctx, ns, name)
}

func (rec *Records) ListTags(ctx context.Context, ns string, q metadef.TagQuery) ([]metadef.Tag, error) {
	defer rec.observe("ListTags", time.Now())
	return rec.metadefs.ListTags(ctx, ns, q)
}

func (rec *Records) GetTag(ctx context.Context, ns string, name string) (*metadef.Tag, error) {
	defer rec.observe("GetTag", time.Now())
	return rec.metadefs.GetTag(ctx, ns, name)
}

func (rec *Records) CreateTag(ctx context.Context, ns string, t *metadef.Tag) error {
	defer rec.observe("CreateTag", time.Now())
	return rec.metadefs.CreateTag(ctx, ns, t)
}

func (rec *Records) CreateTags(ctx context.Context, ns string, tags []metadef.Tag, add bool) error {
	defer rec.observe("CreateTags", time.Now())
	return rec.metadefs.CreateTags(ctx, ns, tags, add)
}

func (rec *Records) UpdateTag(ctx context.Context, ns string, name string, t *metadef.Tag) error {
	defer rec.observe("UpdateTag", time.Now())
	return rec.metadefs.UpdateTag(ctx, ns, name, t)
}

func (rec *Records) DeleteTag(ctx context.Context, ns string, name string) error {
	defer rec.observe("DeleteTag", time.Now())
	return rec.metadefs.DeleteTag(ctx, ns, name)
}

func (rec *Records) ListResourceTypes(ctx context.Context) ([]metadef.ResourceType, error) {
	defer rec.observe("ListResourceTypes", time.Now())
	return rec.metadefs.ListResourceTypes(ctx)
}

func (rec *Records) ListAssociations(ctx context.Context, ns string) ([]metadef.Association, error) {
	defer rec.observe("ListAssociations", time.Now())
	return rec.metadefs.ListAssociations(ctx, ns)
}

func (rec *Records) CreateAssociation(ctx context.Context, ns string, a *metadef.Association) error {
	defer rec.observe("CreateAssociation", time.Now())
	return rec.metadefs.CreateAssociation(ctx, ns, a)
}

func (rec *Records) DeleteAssociation(ctx context.Context, ns string, resourceType string) error {
	defer rec.observe("DeleteAssociation", time.Now())
	return rec.metadefs.DeleteAssociation(ctx, ns, resourceType)
}

func (rec *Records) ImportDefinition(ctx context.Context, d *metadef.Definition, mode metadef.ImportMode, at time.Time) (metadef.ImportResult, error) {
	defer rec.observe("ImportDefinition", time.Now())
	return rec.metadefs.ImportDefinition(ctx, d, mode, at)
}

func (rec *Records) SeedOnce(ctx context.Context, key string, defs []*metadef.Definition, at time.Time) (bool, error) {
	defer rec.observe("SeedOnce", time.Now())
	return rec.metadefs.SeedOnce(ctx, key, defs, at)
}
