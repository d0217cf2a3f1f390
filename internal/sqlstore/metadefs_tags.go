package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/metadef"
)

// A namespace's tags and resource type associations, and the resource
// types themselves.

// Tags.

var tagSort = map[string]string{
	"created_at": "created_at",
	"updated_at": "COALESCE(updated_at, created_at)",
	"name":       "name",
	"id":         "created_at",
}

// tags lists a page of a namespace's tags. Sort "id" alone (as the
// definition readers use it) is plain creation order.
func (s *Store) tags(ctx context.Context, q querier, nsID int64, tq metadef.TagQuery) ([]metadef.Tag, error) {
	expr, ok := tagSort[tq.Sort]
	if !ok {
		return nil, fmt.Errorf("sort key %q: %w", tq.Sort, metadef.ErrInvalid)
	}
	keys := sortTuple(expr)
	if tq.Sort == "id" {
		keys = []string{"id"}
	}
	tuple := strings.Join(keys, ", ")
	dir, cmp := " ASC", " > "
	if tq.Desc {
		dir, cmp = " DESC", " < "
	}
	p := &listPlan{bindTime: s.d.BindTime}
	p.and("namespace_id = " + p.arg(nsID))
	if tq.Marker != "" {
		p.and("(" + tuple + ")" + cmp + "(SELECT " + tuple + " FROM metadef_tags m WHERE m.namespace_id = " +
			p.arg(nsID) + " AND m.name = " + p.arg(tq.Marker) + ")")
	}
	var order []string
	for _, k := range keys {
		order = append(order, k+dir)
	}
	query := `SELECT name, created_at, updated_at FROM metadef_tags WHERE ` + strings.Join(p.where, " AND ") + ` ORDER BY ` + strings.Join(order, ", ")
	if tq.Limit > 0 {
		query += " LIMIT " + p.arg(tq.Limit)
	}
	rows, err := q.QueryContext(ctx, query, p.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []metadef.Tag{}
	for rows.Next() {
		var t metadef.Tag
		created, updated := s.timeColumn(), s.timeColumn()
		if err := rows.Scan(&t.Name, created, updated); err != nil {
			return nil, err
		}
		t.CreatedAt, t.UpdatedAt = created.t, timePtr(updated)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) ListTags(ctx context.Context, ns string, q metadef.TagQuery) ([]metadef.Tag, error) {
	var out []metadef.Tag
	err := s.inNamespace(ctx, ns, func(tx *Tx, id int64) (err error) {
		out, err = s.tags(ctx, tx, id, q)
		return err
	})
	return out, err
}

func (s *Store) GetTag(ctx context.Context, ns, name string) (*metadef.Tag, error) {
	var t *metadef.Tag
	err := s.inNamespace(ctx, ns, func(tx *Tx, id int64) error {
		var tag metadef.Tag
		created, updated := s.timeColumn(), s.timeColumn()
		err := tx.QueryRowContext(ctx, `SELECT name, created_at, updated_at FROM metadef_tags WHERE namespace_id = $1 AND name = $2`,
			id, name).Scan(&tag.Name, created, updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tag %q: %w", name, metadef.ErrNotFound)
		}
		tag.CreatedAt, tag.UpdatedAt = created.t, timePtr(updated)
		t = &tag
		return err
	})
	return t, err
}

func (s *Store) insertTag(ctx context.Context, tx *Tx, nsID int64, t *metadef.Tag) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO metadef_tags (namespace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
		nsID, t.Name, s.d.BindTime(t.CreatedAt), s.nullTime(t.UpdatedAt))
	return s.metadefErr(err, "tag", t.Name)
}

func (s *Store) CreateTag(ctx context.Context, ns string, t *metadef.Tag) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error { return s.insertTag(ctx, tx, id, t) })
}

func (s *Store) CreateTags(ctx context.Context, ns string, tags []metadef.Tag, add bool) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error {
		if !add {
			if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_tags WHERE namespace_id = $1`, id); err != nil {
				return err
			}
		}
		for i := range tags {
			if err := s.insertTag(ctx, tx, id, &tags[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) UpdateTag(ctx context.Context, ns, name string, t *metadef.Tag) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE metadef_tags SET name = $1, updated_at = $2 WHERE namespace_id = $3 AND name = $4`,
			t.Name, s.nullTime(t.UpdatedAt), id, name)
		if err != nil {
			return s.metadefErr(err, "tag", t.Name)
		}
		return affected(res, "tag", name)
	})
}

func (s *Store) DeleteTag(ctx context.Context, ns, name string) error {
	return s.deleteChild(ctx, ns, "metadef_tags", "tag", name)
}

// Resource types and associations.

func (s *Store) ListResourceTypes(ctx context.Context) (_ []metadef.ResourceType, err error) {
	defer s.markUnavailable(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []metadef.ResourceType{}
	for rows.Next() {
		var rt metadef.ResourceType
		created, updated := s.timeColumn(), s.timeColumn()
		if err := rows.Scan(&rt.Name, &rt.Protected, created, updated); err != nil {
			return nil, err
		}
		rt.CreatedAt, rt.UpdatedAt = created.t, timePtr(updated)
		out = append(out, rt)
	}
	return out, rows.Err()
}

func (s *Store) associations(ctx context.Context, q querier, nsID int64) ([]metadef.Association, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+associationColumns+`
		FROM metadef_namespace_resource_types a JOIN metadef_resource_types r ON r.id = a.resource_type_id
		WHERE a.namespace_id = $1 ORDER BY a.id`, nsID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []metadef.Association{}
	for rows.Next() {
		a, err := s.scanAssociation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) ListAssociations(ctx context.Context, ns string) ([]metadef.Association, error) {
	var out []metadef.Association
	err := s.inNamespace(ctx, ns, func(tx *Tx, id int64) (err error) {
		out, err = s.associations(ctx, tx, id)
		return err
	})
	return out, err
}

// resourceTypeID finds a resource type, creating it when missing.
func (s *Store) resourceTypeID(ctx context.Context, tx *Tx, name string, protected bool, created time.Time, updated *time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM metadef_resource_types WHERE name = $1`, name).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO metadef_resource_types (name, protected, created_at, updated_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, name, protected, s.d.BindTime(created), s.nullTime(updated)).Scan(&id)
	return id, s.metadefErr(err, "resource type", name)
}

func (s *Store) insertAssociation(ctx context.Context, tx *Tx, nsID int64, a *metadef.Association, protectType bool) error {
	rt, err := s.resourceTypeID(ctx, tx, a.Name, protectType, a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_namespace_resource_types
		(namespace_id, resource_type_id, prefix, properties_target, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		nsID, rt, nullString(a.Prefix), nullString(a.PropertiesTarget), s.d.BindTime(a.CreatedAt), s.nullTime(a.UpdatedAt))
	return s.metadefErr(err, "association", a.Name)
}

func (s *Store) CreateAssociation(ctx context.Context, ns string, a *metadef.Association) error {
	return s.changeNamespace(ctx, ns, false, func(tx *Tx, id int64) error {
		return s.insertAssociation(ctx, tx, id, a, false)
	})
}

func (s *Store) DeleteAssociation(ctx context.Context, ns, resourceType string) error {
	return s.changeNamespace(ctx, ns, true, func(tx *Tx, id int64) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM metadef_namespace_resource_types WHERE namespace_id = $1
			AND resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = $2)`, id, resourceType)
		if err != nil {
			return err
		}
		return affected(res, "association", resourceType)
	})
}
