-- Property filters in the default order, and fewer index entries per
-- created image (internal/sqlstore/listquery.go).
--
-- * Property rows carry their image's created_at (which never changes),
--   as tag rows do since 00007: "images with property N = V, newest
--   first" walks one index range and stops after a page. The index
--   replaces (name, value), whose prefix it keeps; "does image I have
--   N = V" is the primary key (image_id, name).
-- * Indexes that a longer one with the same prefix already serves go:
--   image_tags_value (image_tags_value_order) and image_members_member
--   (image_members_member_order, 00008).
-- * Indexes that only ever look for some values keep only those rows:
--   status is searched for the in-flight states on start-up (a new image
--   is queued, so it is in none), checksum and os_hash_value for a value
--   (an image has none until its data is uploaded).
-- * Hidden images (os_hidden) are few: a listing of them in the default
--   order reads them from indexes of their own, which cost nothing to
--   the images that are not hidden.

-- +goose Up
CREATE TABLE image_properties_new (
    image_id         TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    value            TEXT NOT NULL,
    image_created_at TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
) WITHOUT ROWID;
INSERT INTO image_properties_new (image_id, name, value, image_created_at)
    SELECT p.image_id, p.name, p.value, i.created_at FROM image_properties p JOIN images i ON i.id = p.image_id;
DROP TABLE image_properties;
ALTER TABLE image_properties_new RENAME TO image_properties;
CREATE INDEX image_properties_name_value_order ON image_properties (name, value, image_created_at, image_id);

DROP INDEX image_tags_value;
DROP INDEX image_members_member;
DROP INDEX images_status;
CREATE INDEX images_status ON images (status) WHERE status IN ('saving', 'uploading', 'importing');
DROP INDEX images_checksum;
CREATE INDEX images_checksum ON images (checksum) WHERE checksum IS NOT NULL;
DROP INDEX images_os_hash_value;
CREATE INDEX images_os_hash_value ON images (os_hash_value) WHERE os_hash_value IS NOT NULL;
CREATE INDEX images_hidden_visibility ON images (visibility, created_at, id) WHERE os_hidden;
CREATE INDEX images_hidden_owner ON images (owner, visibility, created_at, id) WHERE os_hidden;

-- +goose Down
DROP INDEX images_hidden_owner;
DROP INDEX images_hidden_visibility;
DROP INDEX images_os_hash_value;
CREATE INDEX images_os_hash_value ON images (os_hash_value);
DROP INDEX images_checksum;
CREATE INDEX images_checksum ON images (checksum);
DROP INDEX images_status;
CREATE INDEX images_status ON images (status);
CREATE INDEX image_members_member ON image_members (member, status);
CREATE INDEX image_tags_value ON image_tags (value);

CREATE TABLE image_properties_old (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
) WITHOUT ROWID;
INSERT INTO image_properties_old (image_id, name, value) SELECT image_id, name, value FROM image_properties;
DROP TABLE image_properties;
ALTER TABLE image_properties_old RENAME TO image_properties;
CREATE INDEX image_properties_name_value ON image_properties (name, value);
