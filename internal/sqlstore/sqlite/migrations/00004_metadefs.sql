-- The metadata definitions catalog (metadefs): namespaces with their
-- properties, objects and tags, and the resource types they apply to, as
-- Glance's metadef tables hold them. Same conventions as 00001: UTC
-- fixed-width text times, 0/1 booleans. Integer ids exist only to order
-- rows as Glance does (creation order, newest id last); the API addresses
-- everything by name. Children are deleted explicitly, in the namespace
-- delete's transaction; the foreign keys guard against orphans.

-- +goose Up
CREATE TABLE metadef_namespaces (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace    TEXT    NOT NULL UNIQUE,
    display_name TEXT,
    description  TEXT,
    visibility   TEXT    NOT NULL,
    protected    INTEGER NOT NULL DEFAULT 0,
    owner        TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT
);
CREATE INDEX metadef_namespaces_owner ON metadef_namespaces (owner);

CREATE TABLE metadef_resource_types (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    protected  INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    updated_at TEXT
);

-- A namespace lists its associations in the order they were made.
CREATE TABLE metadef_namespace_resource_types (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id      INTEGER NOT NULL REFERENCES metadef_namespaces (id),
    resource_type_id  INTEGER NOT NULL REFERENCES metadef_resource_types (id),
    prefix            TEXT,
    properties_target TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT,
    UNIQUE (namespace_id, resource_type_id)
);
CREATE INDEX metadef_namespace_resource_types_type ON metadef_namespace_resource_types (resource_type_id);

-- json_schema is the property's definition as a JSON object.
CREATE TABLE metadef_properties (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id),
    name         TEXT    NOT NULL,
    json_schema  TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT,
    UNIQUE (namespace_id, name)
);

-- required is a JSON array of names; json_schema a JSON object mapping
-- each of the object's property names to its definition, in order.
CREATE TABLE metadef_objects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id),
    name         TEXT    NOT NULL,
    description  TEXT,
    required     TEXT    NOT NULL DEFAULT '[]',
    json_schema  TEXT    NOT NULL DEFAULT '{}',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT,
    UNIQUE (namespace_id, name)
);

CREATE TABLE metadef_tags (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id),
    name         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT,
    UNIQUE (namespace_id, name)
);

-- One row per set of shipped definitions loaded, so that a namespace an
-- operator deleted is not loaded again at the next start.
CREATE TABLE metadef_seeds (
    name       TEXT NOT NULL PRIMARY KEY,
    applied_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE metadef_seeds;
DROP TABLE metadef_tags;
DROP TABLE metadef_objects;
DROP TABLE metadef_properties;
DROP TABLE metadef_namespace_resource_types;
DROP TABLE metadef_resource_types;
DROP TABLE metadef_namespaces;
