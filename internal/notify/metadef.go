package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/sqlstore"
)

// MetadefStore is a metadef.Store whose changes write Glance's metadef_*
// notifications into the outbox, in their own transactions. Loading
// definition files (ImportDefinition, SeedOnce) sends none, as Glance's
// db_load_metadefs sends none.
type MetadefStore struct {
	metadef.Store
	n *Notifier
}

// WrapMetadefs decorates st (a sqlstore-based store).
func (n *Notifier) WrapMetadefs(st metadef.Store) *MetadefStore {
	return &MetadefStore{Store: st, n: n}
}

// events adds the events (payloads known before the change) to the
// change's transaction.
func (s *MetadefStore) events(ctx context.Context, evs ...event) context.Context {
	kept := evs[:0:0]
	for _, e := range evs {
		if s.n.Enabled(e.eventType) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return ctx
	}
	return s.n.hook(ctx, func(context.Context, *sqlstore.Tx) ([]event, error) { return kept, nil })
}

type deletion struct {
	Deleted   bool    `json:"deleted"`
	DeletedAt *string `json:"deleted_at"`
}

func live() deletion { return deletion{} }

func gone() deletion {
	now := isoTime(time.Now())
	return deletion{Deleted: true, DeletedAt: &now}
}

func isoOr(t *time.Time, fallback time.Time) string {
	if t == nil {
		return isoTime(fallback)
	}
	return isoTime(*t)
}

type namespacePayload struct {
	Namespace    string  `json:"namespace"`
	NamespaceOld string  `json:"namespace_old"`
	DisplayName  *string `json:"display_name"`
	Protected    bool    `json:"protected"`
	Visibility   string  `json:"visibility"`
	Owner        string  `json:"owner"`
	Description  *string `json:"description"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	deletion
}

func namespaceOf(ns *metadef.Namespace, old string, d deletion) namespacePayload {
	return namespacePayload{Namespace: ns.Name, NamespaceOld: old, DisplayName: ns.DisplayName, Protected: ns.Protected,
		Visibility: ns.Visibility, Owner: ns.Owner, Description: ns.Description, CreatedAt: isoTime(ns.CreatedAt),
		UpdatedAt: isoOr(ns.UpdatedAt, ns.CreatedAt), deletion: d}
}

// schemaFields are the property schema keys Glance's payloads carry.
var schemaFields = []string{"type", "title", "description", "default", "minimum", "maximum", "enum", "pattern",
	"minLength", "maxLength", "confidential", "items", "uniqueItems", "minItems", "maxItems", "additionalItems"}

func propertyFields(p metadef.Property) map[string]any {
	// The schema was checked when the property was written; one that does
	// not parse leaves every field null, as an absent one does.
	var schema map[string]any
	if err := json.Unmarshal(p.Schema, &schema); err != nil {
		schema = nil
	}
	out := map[string]any{"name": p.Name}
	for _, k := range schemaFields {
		out[k] = schema[k] // absent keys are null, as Glance's schema.get
	}
	return out
}

func propertyOf(ns string, p metadef.Property, old string, d deletion) map[string]any {
	out := propertyFields(p)
	out["namespace"], out["name_old"], out["deleted"], out["deleted_at"] = ns, old, d.Deleted, d.DeletedAt
	return out
}

type objectPayload struct {
	Namespace   string           `json:"namespace"`
	Name        string           `json:"name"`
	NameOld     string           `json:"name_old"`
	Properties  []map[string]any `json:"properties"`
	Required    []string         `json:"required"`
	Description *string          `json:"description"`
	CreatedAt   string           `json:"created_at"`
	UpdatedAt   string           `json:"updated_at"`
	deletion
}

func objectOf(ns string, o *metadef.Object, old string, d deletion) objectPayload {
	props := []map[string]any{}
	for _, p := range o.Properties {
		props = append(props, propertyFields(p))
	}
	return objectPayload{Namespace: ns, Name: o.Name, NameOld: old, Properties: props, Required: o.Required,
		Description: o.Description, CreatedAt: isoTime(o.CreatedAt), UpdatedAt: isoOr(o.UpdatedAt, o.CreatedAt), deletion: d}
}

type namedPayload struct {
	Namespace        string  `json:"namespace"`
	Name             string  `json:"name"`
	NameOld          string  `json:"name_old"`
	Prefix           *string `json:"prefix,omitempty"`
	PropertiesTarget *string `json:"properties_target,omitempty"`
	CreatedAt        string  `json:"created_at"`
	UpdatedAt        string  `json:"updated_at"`
	deletion
}

func tagOf(ns string, t *metadef.Tag, old string, d deletion) namedPayload {
	return namedPayload{Namespace: ns, Name: t.Name, NameOld: old, CreatedAt: isoTime(t.CreatedAt),
		UpdatedAt: isoOr(t.UpdatedAt, t.CreatedAt), deletion: d}
}

func associationOf(ns string, a *metadef.Association, d deletion) namedPayload {
	return namedPayload{Namespace: ns, Name: a.Name, NameOld: a.Name, Prefix: a.Prefix, PropertiesTarget: a.PropertiesTarget,
		CreatedAt: isoTime(a.CreatedAt), UpdatedAt: isoOr(a.UpdatedAt, a.CreatedAt), deletion: d}
}

func (s *MetadefStore) CreateDefinition(ctx context.Context, d *metadef.Definition) error {
	ns := d.Namespace.Name
	evs := []event{{"metadef_namespace.create", Info, namespaceOf(&d.Namespace, ns, live())}}
	for i := range d.Objects {
		evs = append(evs, event{"metadef_object.create", Info, objectOf(ns, &d.Objects[i], d.Objects[i].Name, live())})
	}
	for _, p := range d.Properties {
		evs = append(evs, event{"metadef_property.create", Info, propertyOf(ns, p, p.Name, live())})
	}
	for i := range d.Tags {
		evs = append(evs, event{"metadef_tag.create", Info, tagOf(ns, &d.Tags[i], d.Tags[i].Name, live())})
	}
	for i := range d.Associations {
		evs = append(evs, event{"metadef_resource_type.create", Info, associationOf(ns, &d.Associations[i], live())})
	}
	return s.Store.CreateDefinition(s.events(ctx, evs...), d)
}

func (s *MetadefStore) UpdateNamespace(ctx context.Context, name string, ns *metadef.Namespace) error {
	return s.Store.UpdateNamespace(s.events(ctx, event{"metadef_namespace.update", Info, namespaceOf(ns, name, live())}), name, ns)
}

// namespaceEvent reads the namespace before a change that removes it or
// its contents.
func (s *MetadefStore) namespaceEvent(ctx context.Context, name, eventType string, d deletion) context.Context {
	if !s.n.Enabled(eventType) {
		return ctx
	}
	ns, err := s.Store.GetNamespace(ctx, name)
	if err != nil {
		return ctx // the change fails the same way and sends nothing
	}
	return s.events(ctx, event{eventType, Info, namespaceOf(ns, name, d)})
}

func (s *MetadefStore) DeleteNamespace(ctx context.Context, name string) error {
	return s.Store.DeleteNamespace(s.namespaceEvent(ctx, name, "metadef_namespace.delete", gone()), name)
}

func (s *MetadefStore) DeleteContent(ctx context.Context, name string, part metadef.Part) error {
	return s.Store.DeleteContent(s.namespaceEvent(ctx, name, "metadef_namespace.delete_"+string(part), live()), name, part)
}

func (s *MetadefStore) CreateObject(ctx context.Context, ns string, o *metadef.Object) error {
	return s.Store.CreateObject(s.events(ctx, event{"metadef_object.create", Info, objectOf(ns, o, o.Name, live())}), ns, o)
}

func (s *MetadefStore) UpdateObject(ctx context.Context, ns, name string, o *metadef.Object) error {
	return s.Store.UpdateObject(s.events(ctx, event{"metadef_object.update", Info, objectOf(ns, o, name, live())}), ns, name, o)
}

func (s *MetadefStore) DeleteObject(ctx context.Context, ns, name string) error {
	if s.n.Enabled("metadef_object.delete") {
		if o, err := s.Store.GetObject(ctx, ns, name); err == nil {
			ctx = s.events(ctx, event{"metadef_object.delete", Info, objectOf(ns, o, name, gone())})
		}
	}
	return s.Store.DeleteObject(ctx, ns, name)
}

func (s *MetadefStore) CreateProperty(ctx context.Context, ns string, p *metadef.Property) error {
	return s.Store.CreateProperty(s.events(ctx, event{"metadef_property.create", Info, propertyOf(ns, *p, p.Name, live())}), ns, p)
}

func (s *MetadefStore) UpdateProperty(ctx context.Context, ns, name string, p *metadef.Property) error {
	return s.Store.UpdateProperty(s.events(ctx, event{"metadef_property.update", Info, propertyOf(ns, *p, name, live())}), ns, name, p)
}

func (s *MetadefStore) DeleteProperty(ctx context.Context, ns, name string) error {
	if s.n.Enabled("metadef_property.delete") {
		if p, err := s.Store.GetProperty(ctx, ns, name); err == nil {
			ctx = s.events(ctx, event{"metadef_property.delete", Info, propertyOf(ns, *p, name, gone())})
		}
	}
	return s.Store.DeleteProperty(ctx, ns, name)
}

func (s *MetadefStore) CreateTag(ctx context.Context, ns string, t *metadef.Tag) error {
	return s.Store.CreateTag(s.events(ctx, event{"metadef_tag.create", Info, tagOf(ns, t, t.Name, live())}), ns, t)
}

func (s *MetadefStore) CreateTags(ctx context.Context, ns string, tags []metadef.Tag, add bool) error {
	evs := make([]event, 0, len(tags))
	for i := range tags {
		evs = append(evs, event{"metadef_tag.create", Info, tagOf(ns, &tags[i], tags[i].Name, live())})
	}
	if len(evs) > 0 {
		ctx = s.events(ctx, evs...)
	}
	return s.Store.CreateTags(ctx, ns, tags, add)
}

func (s *MetadefStore) UpdateTag(ctx context.Context, ns, name string, t *metadef.Tag) error {
	return s.Store.UpdateTag(s.events(ctx, event{"metadef_tag.update", Info, tagOf(ns, t, name, live())}), ns, name, t)
}

func (s *MetadefStore) DeleteTag(ctx context.Context, ns, name string) error {
	if s.n.Enabled("metadef_tag.delete") {
		if t, err := s.Store.GetTag(ctx, ns, name); err == nil {
			ctx = s.events(ctx, event{"metadef_tag.delete", Info, tagOf(ns, t, name, gone())})
		}
	}
	return s.Store.DeleteTag(ctx, ns, name)
}

func (s *MetadefStore) CreateAssociation(ctx context.Context, ns string, a *metadef.Association) error {
	return s.Store.CreateAssociation(s.events(ctx, event{"metadef_resource_type.create", Info, associationOf(ns, a, live())}), ns, a)
}

func (s *MetadefStore) DeleteAssociation(ctx context.Context, ns, resourceType string) error {
	if s.n.Enabled("metadef_resource_type.delete") {
		if as, err := s.Store.ListAssociations(ctx, ns); err == nil {
			for i := range as {
				if as[i].Name == resourceType {
					ctx = s.events(ctx, event{"metadef_resource_type.delete", Info, associationOf(ns, &as[i], gone())})
				}
			}
		}
	}
	return s.Store.DeleteAssociation(ctx, ns, resourceType)
}
