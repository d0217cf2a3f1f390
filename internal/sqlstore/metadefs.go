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

// The metadef.Store half of the metadata store: namespaces and whole
// definitions here, their contents in metadefs_content.go, loading
// definition files in metadefs_import.go. Every statement addresses a
// namespace by name and resolves its id inside the same transaction.

var _ metadef.Store = (*Store)(nil)

// nsRef is a namespace row as writers need it.
type nsRef struct {
	id        int64
	protected bool
}

// namespaceRef finds a namespace inside tx, locking its row where the
// dialect can (a concurrent delete then waits for this transaction).
func (s *Store) namespaceRef(ctx context.Context, q querier, name string, lock bool) (nsRef, error) {
	var r nsRef
	query := `SELECT id, protected FROM metadef_namespaces WHERE namespace = $1`
	if lock {
		query += s.d.LockRow
	}
	err := q.QueryRowContext(ctx, query, name).Scan(&r.id, &r.protected)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("namespace %q: %w", name, metadef.ErrNotFound)
	}
	return r, err
}

// metadefErr maps a constraint violation: a repeated name is a
// *metadef.Duplicate of what was being written, a reference to a row that
// went away (a namespace deleted meanwhile) ErrNotFound.
func (s *Store) metadefErr(err error, what, name string) error {
	switch s.d.Violation(err) {
	case UniqueViolation:
		return &metadef.Duplicate{What: what, Name: name}
	case ForeignKeyViolation:
		return fmt.Errorf("%s %q: %w", what, name, metadef.ErrNotFound)
	}
	return err
}

// timePtr converts a scanned nullable time.
func timePtr(c *timeColumn) *time.Time {
	if !c.valid {
		return nil
	}
	t := c.t
	return &t
}

const namespaceColumns = `namespace, display_name, description, visibility, protected, owner, created_at, updated_at`

// GetNamespace returns one namespace record.
func (s *Store) GetNamespace(ctx context.Context, name string) (_ *metadef.Namespace, err error) {
	defer s.markUnavailable(&err)
	var id int64
	ns, err := s.scanNamespaceWithID(s.r.QueryRowContext(ctx, `SELECT id, `+namespaceColumns+` FROM metadef_namespaces WHERE namespace = $1`, name), &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("namespace %q: %w", name, metadef.ErrNotFound)
	}
	return ns, err
}

// namespaceSort maps a sort key to its expression; nullable columns sort
// as their fallback, so both engines order NULLs alike.
var namespaceSort = map[string]string{
	"created_at":   "created_at",
	"id":           "created_at",
	"updated_at":   "COALESCE(updated_at, created_at)",
	"namespace":    "namespace",
	"display_name": "COALESCE(display_name, '')",
	"description":  "COALESCE(description, '')",
	"visibility":   "visibility",
	"protected":    "protected",
	"owner":        "owner",
}

// ListNamespaces returns a page of the namespaces q's caller may see.
func (s *Store) ListNamespaces(ctx context.Context, q metadef.NamespaceQuery) ([]*metadef.Definition, error) {
	expr, ok := namespaceSort[q.Sort]
	if !ok {
		return nil, fmt.Errorf("sort key %q: %w", q.Sort, metadef.ErrInvalid)
	}
	p := &listPlan{bindTime: s.d.BindTime}
	switch {
	case q.Caller.Admin:
	case q.Caller.Project == "":
		p.and("visibility = 'public'")
	default:
		p.and("(visibility = 'public' OR owner = " + p.arg(q.Caller.Project) + ")")
	}
	if q.Visibility != "" {
		p.and("visibility = " + p.arg(q.Visibility))
	}
	if q.ResourceTypes != nil {
		if len(q.ResourceTypes) == 0 {
			return []*metadef.Definition{}, nil
		}
		types := padded(q.ResourceTypes)
		marks := make([]string, len(types))
		for i, rt := range types {
			marks[i] = p.arg(rt)
		}
		p.and(`EXISTS (SELECT 1 FROM metadef_namespace_resource_types a
			JOIN metadef_resource_types r ON r.id = a.resource_type_id
			WHERE a.namespace_id = metadef_namespaces.id AND r.name IN (` + strings.Join(marks, ", ") + `))`)
	}
	// Glance sorts by the key, then created_at and id, all one way.
	keys := sortTuple(expr)
	tuple := strings.Join(keys, ", ")
	dir, cmp := " ASC", " > "
	if q.Desc {
		dir, cmp = " DESC", " < "
	}
	if q.Marker != "" {
		// Unqualified columns of the subquery are the marker row's.
		p.and("(" + tuple + ")" + cmp + "(SELECT " + tuple + " FROM metadef_namespaces m WHERE m.namespace = " + p.arg(q.Marker) + ")")
	}
	order := make([]string, 0, len(keys))
	for _, k := range keys {
		order = append(order, k+dir)
	}
	query := `SELECT id, ` + namespaceColumns + ` FROM metadef_namespaces`
	if len(p.where) > 0 {
		query += " WHERE " + strings.Join(p.where, " AND ")
	}
	query += " ORDER BY " + strings.Join(order, ", ")
	if q.Limit > 0 {
		query += " LIMIT " + p.arg(q.Limit)
	}
	var out []*metadef.Definition
	err := s.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, query, p.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = []*metadef.Definition{}
		byID := map[int64]*metadef.Definition{}
		var ids []any
		for rows.Next() {
			var id int64
			ns, err := s.scanNamespaceWithID(rows, &id)
			if err != nil {
				return err
			}
			d := &metadef.Definition{Namespace: *ns}
			out = append(out, d)
			byID[id] = d
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return s.attachAssociations(ctx, tx, byID, ids)
	})
	return out, err
}

// padded repeats the last element of list up to the next power of two,
// so that IN lists come in a few lengths and their statements can be
// cached (a repeated value in an IN list changes nothing).
func padded[T any](list []T) []T {
	n := 1
	for n < len(list) {
		n *= 2
	}
	out := append(list[:len(list):len(list)], make([]T, n-len(list))...)
	for i := len(list); i < n; i++ {
		out[i] = list[len(list)-1]
	}
	return out
}

// sortTuple is the full ordering for a sort expression: it, then
// created_at, then the row id.
func sortTuple(expr string) []string {
	if expr == "created_at" {
		return []string{"created_at", "id"}
	}
	return []string{expr, "created_at", "id"}
}

func (s *Store) scanNamespaceWithID(sc scanner, id *int64) (*metadef.Namespace, error) {
	var ns metadef.Namespace
	var display, desc sql.NullString
	created, updated := s.timeColumn(), s.timeColumn()
	if err := sc.Scan(id, &ns.Name, &display, &desc, &ns.Visibility, &ns.Protected, &ns.Owner, created, updated); err != nil {
		return nil, err
	}
	ns.DisplayName, ns.Description = strPtr(display), strPtr(desc)
	ns.CreatedAt, ns.UpdatedAt = created.t, timePtr(updated)
	return &ns, nil
}

const associationColumns = `r.name, a.prefix, a.properties_target, a.created_at, a.updated_at`

func (s *Store) scanAssociation(sc scanner, extra ...any) (metadef.Association, error) {
	var a metadef.Association
	var prefix, target sql.NullString
	created, updated := s.timeColumn(), s.timeColumn()
	if err := sc.Scan(append(extra, &a.Name, &prefix, &target, created, updated)...); err != nil {
		return a, err
	}
	a.Prefix, a.PropertiesTarget = strPtr(prefix), strPtr(target)
	a.CreatedAt, a.UpdatedAt = created.t, timePtr(updated)
	return a, nil
}

// attachAssociations loads the associations of a page of namespaces with
// one query, each in the order it was made.
func (s *Store) attachAssociations(ctx context.Context, tx *Tx, byID map[int64]*metadef.Definition, ids []any) error {
	if len(ids) == 0 {
		return nil
	}
	ids = padded(ids)
	marks := make([]string, len(ids))
	for i := range ids {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.namespace_id, `+associationColumns+`
		FROM metadef_namespace_resource_types a JOIN metadef_resource_types r ON r.id = a.resource_type_id
		WHERE a.namespace_id IN (`+strings.Join(marks, ", ")+`) ORDER BY a.namespace_id, a.id`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		a, err := s.scanAssociation(rows, &id)
		if err != nil {
			return err
		}
		byID[id].Associations = append(byID[id].Associations, a)
	}
	return rows.Err()
}

// GetDefinition returns a namespace with all its contents in one
// snapshot, each kind in creation order.
func (s *Store) GetDefinition(ctx context.Context, name string) (*metadef.Definition, error) {
	var d *metadef.Definition
	err := s.read(ctx, func(tx *Tx) error {
		var id int64
		ns, err := s.scanNamespaceWithID(tx.QueryRowContext(ctx,
			`SELECT id, `+namespaceColumns+` FROM metadef_namespaces WHERE namespace = $1`, name), &id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("namespace %q: %w", name, metadef.ErrNotFound)
		}
		if err != nil {
			return err
		}
		d = &metadef.Definition{Namespace: *ns}
		if d.Associations, err = s.associations(ctx, tx, id); err != nil {
			return err
		}
		if d.Properties, err = s.properties(ctx, tx, id, ""); err != nil {
			return err
		}
		if d.Objects, err = s.objects(ctx, tx, id, ""); err != nil {
			return err
		}
		d.Tags, err = s.tags(ctx, tx, id, metadef.TagQuery{Sort: "id"})
		return err
	})
	return d, err
}

// CreateDefinition creates a namespace and its contents in one
// transaction.
func (s *Store) CreateDefinition(ctx context.Context, d *metadef.Definition) error {
	return s.write(ctx, func(tx *Tx) error { return s.insertDefinition(ctx, tx, d, false) })
}

// insertDefinition writes a new namespace with its contents, in Glance's
// order: the namespace, its associations, objects, tags, properties.
func (s *Store) insertDefinition(ctx context.Context, tx *Tx, d *metadef.Definition, protectTypes bool) error {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO metadef_namespaces (`+namespaceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		d.Name, nullString(d.DisplayName), nullString(d.Description), d.Visibility, d.Protected, d.Owner,
		s.d.BindTime(d.CreatedAt), s.nullTime(d.UpdatedAt)).Scan(&id)
	if err != nil {
		return s.metadefErr(err, "namespace", d.Name)
	}
	return s.insertContents(ctx, tx, id, d, protectTypes)
}

func (s *Store) insertContents(ctx context.Context, tx *Tx, id int64, d *metadef.Definition, protectTypes bool) error {
	for i := range d.Associations {
		if err := s.insertAssociation(ctx, tx, id, &d.Associations[i], protectTypes); err != nil {
			return err
		}
	}
	for i := range d.Objects {
		if err := s.insertObject(ctx, tx, id, &d.Objects[i]); err != nil {
			return err
		}
	}
	for i := range d.Tags {
		if err := s.insertTag(ctx, tx, id, &d.Tags[i]); err != nil {
			return err
		}
	}
	for i := range d.Properties {
		if err := s.insertProperty(ctx, tx, id, &d.Properties[i]); err != nil {
			return err
		}
	}
	return nil
}

// UpdateNamespace replaces a namespace's fields, renaming it when
// ns.Name differs.
func (s *Store) UpdateNamespace(ctx context.Context, name string, ns *metadef.Namespace) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE metadef_namespaces SET namespace = $1, display_name = $2, description = $3,
			visibility = $4, protected = $5, owner = $6, updated_at = $7 WHERE namespace = $8`,
			ns.Name, nullString(ns.DisplayName), nullString(ns.Description), ns.Visibility, ns.Protected, ns.Owner,
			s.nullTime(ns.UpdatedAt), name)
		if err != nil {
			return s.metadefErr(err, "namespace", ns.Name)
		}
		return affected(res, "namespace", name)
	})
}

// affected turns an UPDATE or DELETE that found no row into ErrNotFound.
func affected(res sql.Result, what, name string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", what, name, metadef.ErrNotFound)
	}
	return nil
}

// contentTables are the tables holding a namespace's contents.
var contentTables = []string{"metadef_namespace_resource_types", "metadef_objects", "metadef_properties", "metadef_tags"}

// DeleteNamespace removes a namespace and everything that refers to it,
// in one transaction.
func (s *Store) DeleteNamespace(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *Tx) error {
		ref, err := s.namespaceRef(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if ref.protected {
			return fmt.Errorf("namespace %q: %w", name, metadef.ErrProtected)
		}
		for _, table := range contentTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace_id = $1`, ref.id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM metadef_namespaces WHERE id = $1`, ref.id)
		return err
	})
}

var partTables = map[metadef.Part]string{
	metadef.PartObjects:    "metadef_objects",
	metadef.PartProperties: "metadef_properties",
	metadef.PartTags:       "metadef_tags",
}

// DeleteContent removes all of one kind of a namespace's contents.
func (s *Store) DeleteContent(ctx context.Context, name string, part metadef.Part) error {
	table, ok := partTables[part]
	if !ok {
		return fmt.Errorf("part %q: %w", part, metadef.ErrInvalid)
	}
	return s.write(ctx, func(tx *Tx) error {
		ref, err := s.namespaceRef(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if ref.protected {
			return fmt.Errorf("namespace %q: %w", name, metadef.ErrProtected)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace_id = $1`, ref.id)
		return err
	})
}
