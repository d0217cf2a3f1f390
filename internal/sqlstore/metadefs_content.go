package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/glint-image/glint/internal/metadef"
)

// A namespace's objects and properties (tags and associations in
// metadefs_tags.go). Reads that check the namespace first run in one read
// transaction; writes in one write transaction.

// inNamespace runs fn in a read transaction with the namespace's id.
func (s *Store) inNamespace(ctx context.Context, ns string, fn func(tx *Tx, id int64) error) error {
	return s.read(ctx, func(tx *Tx) error {
		ref, err := s.namespaceRef(ctx, tx, ns, false)
		if err != nil {
			return err
		}
		return fn(tx, ref.id)
	})
}

// changeNamespace runs fn in a write transaction with the namespace's
// row locked; unlessProtected refuses a protected namespace first.
func (s *Store) changeNamespace(ctx context.Context, ns string, unlessProtected bool, fn func(tx *Tx, id int64) error) error {
	return s.write(ctx, func(tx *Tx) error {
		ref, err := s.namespaceRef(ctx, tx, ns, true)
		if err != nil {
			return err
		}
		if unlessProtected && ref.protected {
			return fmt.Errorf("namespace %q: %w", ns, metadef.ErrProtected)
		}
		return fn(tx, ref.id)
	})
}

// Objects.

// objectJSON renders an object's properties as one JSON object, in order.
func objectJSON(props []metadef.Property) (string, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range props {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, p.Schema); err != nil {
			return "", fmt.Errorf("property %s: %w", p.Name, err)
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// objectProperties splits a stored JSON object back into properties, in
// the order it was written.
func objectProperties(text string) ([]metadef.Property, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("stored object properties are not a JSON object")
	}
	props := []metadef.Property{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		props = append(props, metadef.Property{Name: name, Schema: raw})
	}
	return props, nil
}

const objectColumns = `name, description, required, json_schema, created_at, updated_at`

func (s *Store) scanObject(sc scanner) (metadef.Object, error) {
	var ob metadef.Object
	var desc sql.NullString
	var required, schema string
	created, updated := s.timeColumn(), s.timeColumn()
	if err := sc.Scan(&ob.Name, &desc, &required, &schema, created, updated); err != nil {
		return ob, err
	}
	ob.Description = strPtr(desc)
	ob.Required = []string{}
	if err := json.Unmarshal([]byte(required), &ob.Required); err != nil {
		return ob, fmt.Errorf("object %s: stored required list: %w", ob.Name, err)
	}
	props, err := objectProperties(schema)
	if err != nil {
		return ob, fmt.Errorf("object %s: %w", ob.Name, err)
	}
	ob.Properties = props
	ob.CreatedAt, ob.UpdatedAt = created.t, timePtr(updated)
	for i := range ob.Properties {
		ob.Properties[i].CreatedAt, ob.Properties[i].UpdatedAt = ob.CreatedAt, ob.UpdatedAt
	}
	return ob, nil
}

// objects lists a namespace's objects, or the one named.
func (s *Store) objects(ctx context.Context, q querier, nsID int64, name string) ([]metadef.Object, error) {
	query, args := `SELECT `+objectColumns+` FROM metadef_objects WHERE namespace_id = $1`, []any{nsID}
	if name != "" {
		query, args = query+` AND name = $2`, append(args, name)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []metadef.Object{}
	for rows.Next() {
		ob, err := s.scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ob)
	}
	return out, rows.Err()
}

// loadIn runs load (objects or properties; name "" for all) inside the
// namespace ns.
func loadIn[T any](ctx context.Context, s *Store, ns, name string,
	load func(context.Context, querier, int64, string) ([]T, error)) ([]T, error) {
	var out []T
	err := s.inNamespace(ctx, ns, func(tx *Tx, id int64) (err error) {
		out, err = load(ctx, tx, id, name)
		return err
	})
	return out, err
}

// oneIn is loadIn for one named item of the given kind, or ErrNotFound.
func oneIn[T any](ctx context.Context, s *Store, ns, kind, name string,
	load func(context.Context, querier, int64, string) ([]T, error)) (*T, error) {
	out, err := loadIn(ctx, s, ns, name, load)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s %q: %w", kind, name, metadef.ErrNotFound)
	}
	return &out[0], nil
}

func (s *Store) ListObjects(ctx context.Context, ns string) ([]metadef.Object, error) {
	return loadIn(ctx, s, ns, "", s.objects)
}

func (s *Store) GetObject(ctx context.Context, ns, name string) (*metadef.Object, error) {
	return oneIn(ctx, s, ns, "object", name, s.objects)
}

// objectValues are the stored forms of an object's list fields.
func objectValues(ob *metadef.Object) (required, schema string, err error) {
	req := ob.Required
	if req == nil {
		req = []string{}
	}
	rb, err := json.Marshal(req)
	if err != nil {
		return "", "", err
	}
	schema, err = objectJSON(ob.Properties)
	return string(rb), schema, err
}

func (s *Store) insertObject(ctx context.Context, tx *Tx, nsID int64, ob *metadef.Object) error {
	required, schema, err := objectValues(ob)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_objects (namespace_id, `+objectColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, nsID, ob.Name, nullString(ob.Description), required, schema,
		s.d.BindTime(ob.CreatedAt), s.nullTime(ob.UpdatedAt))
	return s.metadefErr(err, "object", ob.Name)
}

func (s *Store) CreateObject(ctx context.Context, ns string, ob *metadef.Object) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error { return s.insertObject(ctx, tx, id, ob) })
}

func (s *Store) UpdateObject(ctx context.Context, ns, name string, ob *metadef.Object) error {
	required, schema, err := objectValues(ob)
	if err != nil {
		return err
	}
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE metadef_objects SET name = $1, description = $2, required = $3,
			json_schema = $4, updated_at = $5 WHERE namespace_id = $6 AND name = $7`,
			ob.Name, nullString(ob.Description), required, schema, s.nullTime(ob.UpdatedAt), id, name)
		if err != nil {
			return s.metadefErr(err, "object", ob.Name)
		}
		return affected(res, "object", name)
	})
}

func (s *Store) DeleteObject(ctx context.Context, ns, name string) error {
	return s.deleteChild(ctx, ns, "metadef_objects", "object", name)
}

// deleteChild deletes one named row of a namespace's contents, refusing
// on a protected namespace.
func (s *Store) deleteChild(ctx context.Context, ns, table, what, name string) error {
	return s.changeNamespace(ctx, ns, true, func(tx *Tx, id int64) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace_id = $1 AND name = $2`, id, name)
		if err != nil {
			return err
		}
		return affected(res, what, name)
	})
}

// Properties.

func (s *Store) properties(ctx context.Context, q querier, nsID int64, name string) ([]metadef.Property, error) {
	query, args := `SELECT name, json_schema, created_at, updated_at FROM metadef_properties WHERE namespace_id = $1`, []any{nsID}
	if name != "" {
		query, args = query+` AND name = $2`, append(args, name)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []metadef.Property{}
	for rows.Next() {
		var p metadef.Property
		var schema string
		created, updated := s.timeColumn(), s.timeColumn()
		if err := rows.Scan(&p.Name, &schema, created, updated); err != nil {
			return nil, err
		}
		p.Schema = json.RawMessage(schema)
		p.CreatedAt, p.UpdatedAt = created.t, timePtr(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) ListProperties(ctx context.Context, ns string) ([]metadef.Property, error) {
	return loadIn(ctx, s, ns, "", s.properties)
}

func (s *Store) GetProperty(ctx context.Context, ns, name string) (*metadef.Property, error) {
	return oneIn(ctx, s, ns, "property", name, s.properties)
}

func compactJSON(raw json.RawMessage) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (s *Store) insertProperty(ctx context.Context, tx *Tx, nsID int64, p *metadef.Property) error {
	schema, err := compactJSON(p.Schema)
	if err != nil {
		return fmt.Errorf("property %s: %w", p.Name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_properties (namespace_id, name, json_schema, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)`, nsID, p.Name, schema, s.d.BindTime(p.CreatedAt), s.nullTime(p.UpdatedAt))
	return s.metadefErr(err, "property", p.Name)
}

func (s *Store) CreateProperty(ctx context.Context, ns string, p *metadef.Property) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error { return s.insertProperty(ctx, tx, id, p) })
}

func (s *Store) UpdateProperty(ctx context.Context, ns, name string, p *metadef.Property) error {
	schema, err := compactJSON(p.Schema)
	if err != nil {
		return fmt.Errorf("property %s: %w", p.Name, err)
	}
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE metadef_properties SET name = $1, json_schema = $2, updated_at = $3
			WHERE namespace_id = $4 AND name = $5`, p.Name, schema, s.nullTime(p.UpdatedAt), id, name)
		if err != nil {
			return s.metadefErr(err, "property", p.Name)
		}
		return affected(res, "property", name)
	})
}

func (s *Store) DeleteProperty(ctx context.Context, ns, name string) error {
	return s.deleteChild(ctx, ns, "metadef_properties", "property", name)
}
