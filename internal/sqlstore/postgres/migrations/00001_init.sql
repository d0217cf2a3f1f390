-- Image metadata schema, version 1: the PostgreSQL twin of
-- internal/sqlstore/sqlite/migrations/00001_init.sql. Same tables, columns,
-- keys and indexes; only the types differ:
--   * times are timestamptz (microseconds, like SQLite's fixed-width text);
--   * booleans are boolean instead of 0/1 integers;
--   * text columns use COLLATE "C", so comparisons and ORDER BY go by bytes
--     as SQLite's BINARY collation does, whatever the database's locale.
--     Sorting, markers and name filters must agree on both engines.
-- Images are never removed, only soft-deleted (deleted_at set), so an id is
-- never reused.

-- +goose Up
CREATE TABLE images (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name             TEXT COLLATE "C",
    status           TEXT COLLATE "C" NOT NULL,
    visibility       TEXT COLLATE "C" NOT NULL,
    protected        BOOLEAN NOT NULL DEFAULT FALSE,
    os_hidden        BOOLEAN NOT NULL DEFAULT FALSE,
    min_disk         BIGINT  NOT NULL DEFAULT 0,
    min_ram          BIGINT  NOT NULL DEFAULT 0,
    disk_format      TEXT COLLATE "C",
    container_format TEXT COLLATE "C",
    owner            TEXT COLLATE "C",
    size             BIGINT,
    virtual_size     BIGINT,
    checksum         TEXT COLLATE "C",
    os_hash_algo     TEXT COLLATE "C",
    os_hash_value    TEXT COLLATE "C",
    location         TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    deleted_at       TIMESTAMPTZ
);

-- The default listing walks created_at, id (descending) and stops at the
-- page size. Owner and visibility carry the same order after their own
-- column, so "owned by P" and "visibility = v" branches come out already
-- sorted. The others serve name filters and the recovery scans.
CREATE INDEX images_created_at_id ON images (created_at, id);
CREATE INDEX images_owner ON images (owner, created_at, id);
CREATE INDEX images_visibility ON images (visibility, created_at, id);
CREATE INDEX images_name ON images (name);
CREATE INDEX images_status ON images (status);

-- The primary keys of the child tables start with image_id, so they also
-- serve the foreign keys' lookups (PostgreSQL does not index a referencing
-- column by itself).
CREATE TABLE image_properties (
    image_id TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (image_id, name)
);
CREATE INDEX image_properties_name_value ON image_properties (name, value);

CREATE TABLE image_tags (
    image_id TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (image_id, value)
);
CREATE INDEX image_tags_value ON image_tags (value);

CREATE TABLE image_members (
    image_id   TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member     TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (image_id, member)
);
-- "Which images is project P a member of" is asked by every non-admin list.
CREATE INDEX image_members_member ON image_members (member, status);

-- +goose Down
DROP TABLE image_members;
DROP TABLE image_tags;
DROP TABLE image_properties;
DROP TABLE images;
