package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/glint-image/glint/internal/metadef"
)

// Loading definition files (glint admin metadefs load, and the shipped
// definitions at first start). Each namespace is one transaction. As with
// Glance's loader, records a file creates carry no updated_at and the
// resource types it creates are protected.

// ImportDefinition writes one definition as mode says.
func (s *Store) ImportDefinition(ctx context.Context, d *metadef.Definition, mode metadef.ImportMode, at time.Time) (metadef.ImportResult, error) {
	var res metadef.ImportResult
	err := s.write(ctx, func(tx *Tx) (err error) {
		res, err = s.importDefinition(ctx, tx, d, mode, at)
		return err
	})
	return res, err
}

// loadedCopy is d with the times of records a file creates.
func loadedCopy(d *metadef.Definition, at time.Time) *metadef.Definition {
	c := *d
	c.CreatedAt, c.UpdatedAt = at, nil
	c.Associations = append([]metadef.Association(nil), d.Associations...)
	for i := range c.Associations {
		c.Associations[i].CreatedAt, c.Associations[i].UpdatedAt = at, nil
	}
	c.Properties = append([]metadef.Property(nil), d.Properties...)
	for i := range c.Properties {
		c.Properties[i].CreatedAt, c.Properties[i].UpdatedAt = at, nil
	}
	c.Objects = append([]metadef.Object(nil), d.Objects...)
	for i := range c.Objects {
		c.Objects[i].CreatedAt, c.Objects[i].UpdatedAt = at, nil
	}
	c.Tags = append([]metadef.Tag(nil), d.Tags...)
	for i := range c.Tags {
		c.Tags[i].CreatedAt, c.Tags[i].UpdatedAt = at, nil
	}
	return &c
}

func (s *Store) importDefinition(ctx context.Context, tx *Tx, d *metadef.Definition, mode metadef.ImportMode, at time.Time) (metadef.ImportResult, error) {
	loaded := loadedCopy(d, at)
	ref, err := s.namespaceRef(ctx, tx, d.Name, true)
	if errors.Is(err, metadef.ErrNotFound) {
		return metadef.ImportCreated, s.insertDefinition(ctx, tx, loaded, true)
	}
	if err != nil {
		return "", err
	}
	if mode == metadef.ImportCreate {
		return metadef.ImportSkipped, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE metadef_namespaces SET display_name = $1, description = $2, visibility = $3,
		protected = $4, owner = $5, updated_at = $6 WHERE id = $7`,
		nullString(d.DisplayName), nullString(d.Description), d.Visibility, d.Protected, d.Owner, s.d.BindTime(at), ref.id); err != nil {
		return "", err
	}
	if mode == metadef.ImportReplace {
		for _, table := range contentTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE namespace_id = $1`, ref.id); err != nil {
				return "", err
			}
		}
		return metadef.ImportReplaced, s.insertContents(ctx, tx, ref.id, loaded, true)
	}
	return metadef.ImportMerged, s.mergeContents(ctx, tx, ref.id, loaded, at)
}

// mergeContents adds what the file has and the database lacks and
// overwrites what both have with the file's version.
func (s *Store) mergeContents(ctx context.Context, tx *Tx, nsID int64, d *metadef.Definition, at time.Time) error {
	exists := func(query string, args ...any) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	for i := range d.Associations {
		a := &d.Associations[i]
		rt, err := s.resourceTypeID(ctx, tx, a.Name, true, at, nil)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE metadef_namespace_resource_types SET prefix = $1, properties_target = $2,
			updated_at = $3 WHERE namespace_id = $4 AND resource_type_id = $5`,
			nullString(a.Prefix), nullString(a.PropertiesTarget), s.d.BindTime(at), nsID, rt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if err := s.insertAssociation(ctx, tx, nsID, a, true); err != nil {
				return err
			}
		}
	}
	for i := range d.Properties {
		p := &d.Properties[i]
		schema, err := compactJSON(p.Schema)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE metadef_properties SET json_schema = $1, updated_at = $2
			WHERE namespace_id = $3 AND name = $4`, schema, s.d.BindTime(at), nsID, p.Name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if err := s.insertProperty(ctx, tx, nsID, p); err != nil {
				return err
			}
		}
	}
	for i := range d.Objects {
		ob := &d.Objects[i]
		required, schema, err := objectValues(ob)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE metadef_objects SET description = $1, required = $2, json_schema = $3,
			updated_at = $4 WHERE namespace_id = $5 AND name = $6`,
			nullString(ob.Description), required, schema, s.d.BindTime(at), nsID, ob.Name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if err := s.insertObject(ctx, tx, nsID, ob); err != nil {
				return err
			}
		}
	}
	for i := range d.Tags {
		found, err := exists(`SELECT 1 FROM metadef_tags WHERE namespace_id = $1 AND name = $2`, nsID, d.Tags[i].Name)
		if err != nil {
			return err
		}
		if !found {
			if err := s.insertTag(ctx, tx, nsID, &d.Tags[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// SeedOnce loads defs the first time key is seen, in one transaction.
// On PostgreSQL a second node inserting the same key waits for the first
// one's transaction and then finds the key taken.
func (s *Store) SeedOnce(ctx context.Context, key string, defs []*metadef.Definition, at time.Time) (bool, error) {
	seeded := false
	err := s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO metadef_seeds (name, applied_at) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, key, s.d.BindTime(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		for _, d := range defs {
			if _, err := s.importDefinition(ctx, tx, d, metadef.ImportCreate, at); err != nil {
				return err
			}
		}
		seeded = true
		return nil
	})
	return seeded, err
}
