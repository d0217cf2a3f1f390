package glancemigrate

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/glint-image/glint/internal/metadef"
)

// readNamespaces reads Glance's metadata definitions catalog into
// definitions, in namespace id order.
func (s *source) readNamespaces(ctx context.Context) ([]*metadef.Definition, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, namespace, display_name, description, visibility,
		protected, owner, created_at, updated_at FROM metadef_namespaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading glance metadef namespaces: %w", err)
	}
	byID := map[int64]*metadef.Definition{}
	var defs []*metadef.Definition
	for rows.Next() {
		var id int64
		var display, desc, vis sql.NullString
		var prot sql.NullBool
		var created, updated dbTime
		d := &metadef.Definition{}
		if err := rows.Scan(&id, &d.Name, &display, &desc, &vis, &prot, &d.Owner, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		d.DisplayName = nullable(display.String, display.Valid)
		d.Description = nullable(desc.String, desc.Valid)
		d.Visibility, d.Protected = vis.String, prot.Bool
		if d.Visibility == "" {
			d.Visibility = metadef.VisibilityPrivate
		}
		d.CreatedAt, d.UpdatedAt = created.T, updated.ptr()
		d.Associations, d.Properties, d.Objects, d.Tags = []metadef.Association{}, []metadef.Property{}, []metadef.Object{}, []metadef.Tag{}
		byID[id] = d
		defs = append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.eachRow(ctx, `SELECT namespace_id, name, json_schema, created_at, updated_at FROM metadef_properties ORDER BY id`,
		func(sc func(...any) error) error {
			var nsID int64
			var p metadef.Property
			var schema string
			var created, updated dbTime
			if err := sc(&nsID, &p.Name, &schema, &created, &updated); err != nil {
				return err
			}
			p.Schema, p.CreatedAt, p.UpdatedAt = json.RawMessage(schema), created.T, updated.ptr()
			if d := byID[nsID]; d != nil {
				d.Properties = append(d.Properties, p)
			}
			return nil
		}); err != nil {
		return nil, fmt.Errorf("reading glance metadef properties: %w", err)
	}
	if err := s.eachRow(ctx, `SELECT namespace_id, name, description, required, json_schema, created_at, updated_at FROM metadef_objects ORDER BY id`,
		func(sc func(...any) error) error {
			var nsID int64
			var o metadef.Object
			var desc, required sql.NullString
			var schema string
			var created, updated dbTime
			if err := sc(&nsID, &o.Name, &desc, &required, &schema, &created, &updated); err != nil {
				return err
			}
			o.Description, o.CreatedAt, o.UpdatedAt = nullable(desc.String, desc.Valid), created.T, updated.ptr()
			// Glance keeps the list comma-joined (JSON in older rows).
			if r := strings.TrimSpace(required.String); strings.HasPrefix(r, "[") {
				if err := json.Unmarshal([]byte(r), &o.Required); err != nil {
					return fmt.Errorf("object %s: required: %w", o.Name, err)
				}
			} else if r != "" {
				o.Required = strings.Split(r, ",")
			}
			props, err := orderedProperties([]byte(schema))
			if err != nil {
				return fmt.Errorf("object %s: %w", o.Name, err)
			}
			o.Properties = props
			if d := byID[nsID]; d != nil {
				d.Objects = append(d.Objects, o)
			}
			return nil
		}); err != nil {
		return nil, fmt.Errorf("reading glance metadef objects: %w", err)
	}
	if err := s.eachRow(ctx, `SELECT namespace_id, name, created_at, updated_at FROM metadef_tags ORDER BY id`,
		func(sc func(...any) error) error {
			var nsID int64
			var t metadef.Tag
			var created, updated dbTime
			if err := sc(&nsID, &t.Name, &created, &updated); err != nil {
				return err
			}
			t.CreatedAt, t.UpdatedAt = created.T, updated.ptr()
			if d := byID[nsID]; d != nil {
				d.Tags = append(d.Tags, t)
			}
			return nil
		}); err != nil {
		return nil, fmt.Errorf("reading glance metadef tags: %w", err)
	}
	if err := s.eachRow(ctx, `SELECT a.namespace_id, r.name, a.prefix, a.properties_target, a.created_at, a.updated_at
		FROM metadef_namespace_resource_types a JOIN metadef_resource_types r ON r.id = a.resource_type_id
		ORDER BY a.created_at, r.name`,
		func(sc func(...any) error) error {
			var nsID int64
			var a metadef.Association
			var prefix, target sql.NullString
			var created, updated dbTime
			if err := sc(&nsID, &a.Name, &prefix, &target, &created, &updated); err != nil {
				return err
			}
			a.Prefix, a.PropertiesTarget = nullable(prefix.String, prefix.Valid), nullable(target.String, target.Valid)
			a.CreatedAt, a.UpdatedAt = created.T, updated.ptr()
			if d := byID[nsID]; d != nil {
				d.Associations = append(d.Associations, a)
			}
			return nil
		}); err != nil {
		return nil, fmt.Errorf("reading glance metadef resource type associations: %w", err)
	}
	return defs, nil
}

func (s *source) eachRow(ctx context.Context, query string, fn func(scan func(...any) error) error) error {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// orderedProperties splits an object's json_schema (a JSON object of
// property name → schema) into properties in the order written.
func orderedProperties(doc []byte) ([]metadef.Property, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("json_schema is not a JSON object")
	}
	var out []metadef.Property
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, metadef.Property{Name: t.(string), Schema: raw})
	}
	return out, nil
}

// namespaces migrates the catalog: a namespace glint lacks is created
// with its contents; one whose contents differ (in Glance's file format)
// is replaced by Glance's; equal ones are left alone.
func (m *Migrator) namespaces(ctx context.Context, src *source, opts Options, rep *Report) error {
	defs, err := src.readNamespaces(ctx)
	if err != nil {
		return err
	}
	for _, d := range defs {
		action, reason := m.namespace(ctx, d, opts)
		rep.Namespaces.count(action)
		switch action {
		case "skipped":
			rep.Skipped = append(rep.Skipped, Item{Kind: "namespace", ID: d.Name, Reason: reason})
		case "updated":
			rep.Changes = append(rep.Changes, Item{Kind: "namespace", ID: d.Name, Fields: []string{"contents"}})
		}
	}
	return nil
}

func (m *Migrator) namespace(ctx context.Context, d *metadef.Definition, opts Options) (action, reason string) {
	want, err := metadef.WriteDefinition(d)
	if err != nil {
		return "skipped", err.Error()
	}
	cur, err := m.Metadefs.GetDefinition(ctx, d.Name)
	switch {
	case errors.Is(err, metadef.ErrNotFound):
		if opts.DryRun {
			return "created", ""
		}
		if err := m.Metadefs.CreateDefinition(ctx, d); err != nil {
			return "skipped", err.Error()
		}
		return "created", ""
	case err != nil:
		return "skipped", err.Error()
	}
	have, err := metadef.WriteDefinition(cur)
	if err == nil && bytes.Equal(have, want) && cur.Owner == d.Owner {
		return "unchanged", ""
	}
	if opts.DryRun {
		return "updated", ""
	}
	at := d.CreatedAt
	if d.UpdatedAt != nil {
		at = *d.UpdatedAt
	}
	if _, err := m.Metadefs.ImportDefinition(ctx, d, metadef.ImportReplace, at); err != nil {
		return "skipped", err.Error()
	}
	return "updated", ""
}
