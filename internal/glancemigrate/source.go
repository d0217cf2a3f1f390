package glancemigrate

import (
	"context"
	"crypto/sha512"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // Glance on PostgreSQL
	_ "modernc.org/sqlite"             // Glance on SQLite
)

// KnownSchemas are the alembic heads of Glance's database whose image and
// metadef tables this package reads (glance-more.md §9): Zed's head, which
// later releases keep for these tables, and the heads of the releases
// since Rocky (os_hidden, os_hash_*), where the columns read are the same.
var KnownSchemas = []string{"wallaby_contract01", "train_contract01", "rocky_contract02", "rocky_contract01"}

// ErrUnknownSchema is returned when the database's alembic version is
// not one this package knows; nothing is read then.
var ErrUnknownSchema = errors.New("unknown Glance schema version")

// source reads Glance's database; it never writes it (SQLite is opened
// read-only, and only SELECTs are sent).
type source struct {
	db      *sql.DB
	dialect string // mysql, postgres, sqlite
	schema  string
}

// openSource opens the database Glance's connection URL names and checks
// its schema version.
func openSource(ctx context.Context, connection string, accept []string) (*source, error) {
	driver, dsn, dialect, err := dsnFor(connection)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("glance database: %w", err)
	}
	db.SetMaxOpenConns(4)
	s := &source{db: db, dialect: dialect}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("glance database %s unreachable: %w", redact(connection), err)
	}
	if err := s.checkSchema(ctx, accept); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close ends the read-only connection to Glance's database.
func (s *source) Close() { s.db.Close() }

// dsnFor turns a SQLAlchemy URL into a database/sql driver and DSN.
func dsnFor(connection string) (driver, dsn, dialect string, err error) {
	u, err := url.Parse(connection)
	if err != nil {
		return "", "", "", fmt.Errorf("[database] connection: not a URL")
	}
	scheme, _, _ := strings.Cut(u.Scheme, "+")
	switch scheme {
	case "mysql", "mariadb":
		c := mysql.NewConfig()
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
		c.DBName = strings.TrimPrefix(u.Path, "/")
		c.ParseTime, c.Loc = true, time.UTC
		c.Timeout = 10 * time.Second
		if sock := u.Query().Get("unix_socket"); sock != "" {
			c.Net, c.Addr = "unix", sock
		} else {
			host, port := u.Hostname(), u.Port()
			if port == "" {
				port = "3306"
			}
			c.Net, c.Addr = "tcp", net.JoinHostPort(host, port)
		}
		return "mysql", c.FormatDSN(), "mysql", nil
	case "postgresql", "postgres":
		u.Scheme = "postgres"
		return "pgx", u.String(), "postgres", nil
	case "sqlite":
		path := strings.TrimPrefix(connection, u.Scheme+":///")
		if path == "" || path == connection {
			return "", "", "", fmt.Errorf("[database] connection: an in-memory or relative SQLite URL cannot be migrated")
		}
		path, _, _ = strings.Cut(path, "?")
		// Read-only: the migration must not change Glance's database.
		return "sqlite", "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)", "sqlite", nil
	}
	return "", "", "", fmt.Errorf("[database] connection: scheme %q is not mysql, postgresql or sqlite", u.Scheme)
}

// redact drops the password from a connection URL, for messages.
func redact(connection string) string {
	u, err := url.Parse(connection)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func (s *source) checkSchema(ctx context.Context, accept []string) error {
	rows, err := s.db.QueryContext(ctx, `SELECT version_num FROM alembic_version`)
	if err != nil {
		return fmt.Errorf("%w: no alembic_version table (%v)", ErrUnknownSchema, err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	known := append(append([]string{}, KnownSchemas...), accept...)
	if len(versions) == 0 {
		return fmt.Errorf("%w: alembic_version is empty", ErrUnknownSchema)
	}
	for _, v := range versions {
		if !contains(known, v) {
			return fmt.Errorf("%w: %s (known: %s; --accept-schema %s reads it anyway, after checking that its images tables have the columns of Zed's)",
				ErrUnknownSchema, v, strings.Join(KnownSchemas, ", "), v)
		}
	}
	s.schema = strings.Join(versions, ",")
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// dbTime scans the DATETIME columns of any of the three databases: a
// time.Time (MySQL with parseTime, PostgreSQL) or text (SQLite), naive
// and in UTC as Glance writes them.
type dbTime struct {
	T     time.Time
	Valid bool
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano}

func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Valid = false
		return nil
	case time.Time:
		t.T, t.Valid = x.UTC(), true
		return nil
	case []byte:
		v = string(x)
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("time column holds %T", v)
	}
	for _, l := range timeLayouts {
		if tt, err := time.Parse(l, s); err == nil {
			t.T, t.Valid = tt.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("time column holds %q", s)
}

func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	tt := t.T
	return &tt
}

// glanceImage is one row of images with its live children.
type glanceImage struct {
	ID                              string
	Name                            sql.NullString
	Size, VirtualSize               sql.NullInt64
	Status                          string
	DiskFormat, ContainerFormat     sql.NullString
	Checksum, Owner                 sql.NullString
	MinDisk, MinRAM                 int64
	Protected, Hidden, Deleted      bool
	Visibility                      string
	HashAlgo, HashValue             sql.NullString
	CreatedAt, UpdatedAt, DeletedAt dbTime

	Properties map[string]string
	Tags       []string
	Members    []glanceMember
	Locations  []glanceLocation
}

type glanceMember struct {
	Member, Status       string
	CreatedAt, UpdatedAt dbTime
}

// glanceLocation is one active location row: its URL and the store its
// metadata names (multi-store), if any.
type glanceLocation struct {
	URL   string
	Store string
	// Meta is the rest of the location's metadata, kept by glint too.
	Meta map[string]any
}

// child is a row of one of the image's child tables, with the soft-delete
// time that tells whether it belongs to the image as it was deleted.
type child struct {
	imageID   string
	deleted   bool
	deletedAt dbTime
}

// live reports whether a child row belongs to the image as migrated: not
// deleted, or deleted together with its (deleted) image.
func (c child) live(img *glanceImage) bool {
	if !c.deleted {
		return true
	}
	return img.Deleted && c.deletedAt.Valid && img.DeletedAt.Valid && c.deletedAt.T.Equal(img.DeletedAt.T)
}

// readImages reads every image row with its properties, tags, members and
// active locations, in id order.
func (s *source) readImages(ctx context.Context) ([]*glanceImage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, size, status, disk_format, container_format,
		checksum, owner, min_disk, min_ram, protected, virtual_size, visibility, os_hidden,
		os_hash_algo, os_hash_value, created_at, updated_at, deleted_at, deleted
		FROM images ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading glance images: %w", err)
	}
	var imgs []*glanceImage
	byID := map[string]*glanceImage{}
	for rows.Next() {
		g := &glanceImage{Properties: map[string]string{}}
		if err := rows.Scan(&g.ID, &g.Name, &g.Size, &g.Status, &g.DiskFormat, &g.ContainerFormat,
			&g.Checksum, &g.Owner, &g.MinDisk, &g.MinRAM, &g.Protected, &g.VirtualSize, &g.Visibility, &g.Hidden,
			&g.HashAlgo, &g.HashValue, &g.CreatedAt, &g.UpdatedAt, &g.DeletedAt, &g.Deleted); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading glance images: %w", err)
		}
		imgs = append(imgs, g)
		byID[g.ID] = g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading glance images: %w", err)
	}
	err = s.children(ctx, `SELECT image_id, deleted, deleted_at, name, value FROM image_properties ORDER BY id`,
		byID, func(g *glanceImage, a, b sql.NullString) { g.Properties[a.String] = b.String })
	if err != nil {
		return nil, fmt.Errorf("reading glance image properties: %w", err)
	}
	err = s.children(ctx, `SELECT image_id, deleted, deleted_at, value, '' FROM image_tags ORDER BY id`,
		byID, func(g *glanceImage, a, _ sql.NullString) {
			if !contains(g.Tags, a.String) {
				g.Tags = append(g.Tags, a.String)
			}
		})
	if err != nil {
		return nil, fmt.Errorf("reading glance image tags: %w", err)
	}
	err = s.children(ctx, `SELECT image_id, deleted, deleted_at, value, meta_data FROM image_locations
		WHERE status = 'active' ORDER BY id`,
		byID, func(g *glanceImage, a, b sql.NullString) {
			loc := glanceLocation{URL: a.String}
			var meta map[string]any
			if json.Unmarshal([]byte(b.String), &meta) == nil {
				loc.Store, _ = meta["store"].(string)
				delete(meta, "store")
				if len(meta) > 0 {
					loc.Meta = meta
				}
			}
			g.Locations = append(g.Locations, loc)
		})
	if err != nil {
		return nil, fmt.Errorf("reading glance image locations: %w", err)
	}
	if err := s.readMembers(ctx, byID); err != nil {
		return nil, fmt.Errorf("reading glance image members: %w", err)
	}
	return imgs, nil
}

// children reads rows of (image_id, deleted, deleted_at, a, b) and calls
// fn with each live one's image.
func (s *source) children(ctx context.Context, query string, byID map[string]*glanceImage, fn func(g *glanceImage, a, b sql.NullString)) error {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c child
		var a, b sql.NullString
		if err := rows.Scan(&c.imageID, &c.deleted, &c.deletedAt, &a, &b); err != nil {
			return err
		}
		if g := byID[c.imageID]; g != nil && c.live(g) {
			fn(g, a, b)
		}
	}
	return rows.Err()
}

func (s *source) readMembers(ctx context.Context, byID map[string]*glanceImage) error {
	rows, err := s.db.QueryContext(ctx, `SELECT image_id, deleted, deleted_at, member, status, created_at, updated_at
		FROM image_members ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c child
		var m glanceMember
		if err := rows.Scan(&c.imageID, &c.deleted, &c.deletedAt, &m.Member, &m.Status, &m.CreatedAt, &m.UpdatedAt); err != nil {
			return err
		}
		if g := byID[c.imageID]; g != nil && c.live(g) {
			g.Members = append(g.Members, m)
		}
	}
	return rows.Err()
}

// runningTask is a task Glance has not finished.
type runningTask struct {
	ID, Type, Status, Owner, ImageID string
}

// readRunningTasks lists tasks still pending or processing: they belong
// to Glance's workers and are reported, never copied.
func (s *source) readRunningTasks(ctx context.Context) ([]runningTask, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, type, status, owner, image_id FROM tasks
		WHERE status IN ('pending', 'processing') AND deleted = `+s.falseLit()+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("reading glance tasks: %w", err)
	}
	defer rows.Close()
	var out []runningTask
	for rows.Next() {
		var t runningTask
		var img sql.NullString
		if err := rows.Scan(&t.ID, &t.Type, &t.Status, &t.Owner, &img); err != nil {
			return nil, err
		}
		t.ImageID = img.String
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *source) falseLit() string {
	if s.dialect == "postgres" {
		return "false"
	}
	return "0"
}

// Fingerprint digests every row the migration reads from Glance's
// database (images with their children, metadefs): equal before and
// after a run shows that the run changed nothing there.
func Fingerprint(ctx context.Context, connection string) (string, error) {
	src, err := openSource(ctx, connection, nil)
	if err != nil {
		return "", err
	}
	defer src.Close()
	imgs, err := src.readImages(ctx)
	if err != nil {
		return "", err
	}
	defs, err := src.readNamespaces(ctx)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal([]any{imgs, defs})
	if err != nil {
		return "", err
	}
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:]), nil
}
