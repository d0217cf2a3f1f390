-- Image metadata schema, version 1.
--
-- Kept to plain SQL so the PostgreSQL store can mirror it under the same
-- version number. Times are UTC text in the fixed-width form
-- 2006-01-02T15:04:05.000000Z, so comparing the text compares the instants.
-- Booleans are 0/1 integers. Images are never removed, only soft-deleted
-- (deleted_at set), so an id is never reused.

-- +goose Up
CREATE TABLE images (
    id               TEXT    NOT NULL PRIMARY KEY,
    name             TEXT,
    status           TEXT    NOT NULL,
    visibility       TEXT    NOT NULL,
    protected        INTEGER NOT NULL DEFAULT 0,
    os_hidden        INTEGER NOT NULL DEFAULT 0,
    min_disk         BIGINT  NOT NULL DEFAULT 0,
    min_ram          BIGINT  NOT NULL DEFAULT 0,
    disk_format      TEXT,
    container_format TEXT,
    owner            TEXT,
    size             BIGINT,
    virtual_size     BIGINT,
    checksum         TEXT,
    os_hash_algo     TEXT,
    os_hash_value    TEXT,
    location         TEXT    NOT NULL DEFAULT '',
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    deleted_at       TEXT
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

CREATE TABLE image_properties (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
);
CREATE INDEX image_properties_name_value ON image_properties (name, value);

CREATE TABLE image_tags (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, value)
);
CREATE INDEX image_tags_value ON image_tags (value);

CREATE TABLE image_members (
    image_id   TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member     TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (image_id, member)
);
-- "Which images is project P a member of" is asked by every non-admin list.
CREATE INDEX image_members_member ON image_members (member, status);

-- +goose Down
DROP TABLE image_members;
DROP TABLE image_tags;
DROP TABLE image_properties;
DROP TABLE images;
