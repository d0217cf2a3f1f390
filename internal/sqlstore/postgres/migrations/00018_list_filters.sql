-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00018_list_filters.sql:
-- property rows carry their image's created_at for property filters in
-- the default order; indexes that a longer one already serves go; the
-- status, checksum and os_hash_value indexes keep only the rows searched
-- for; hidden images have default-order indexes of their own; the id
-- order indexes are on id COLLATE "POSIX".

-- +goose Up
ALTER TABLE image_properties ADD COLUMN image_created_at TIMESTAMPTZ;
UPDATE image_properties SET image_created_at = images.created_at FROM images WHERE images.id = image_properties.image_id;
ALTER TABLE image_properties ALTER COLUMN image_created_at SET NOT NULL;
CREATE INDEX image_properties_name_value_order ON image_properties (name, value, image_created_at, image_id);
DROP INDEX image_properties_name_value;

DROP INDEX image_tags_value;
DROP INDEX image_members_member;
DROP INDEX images_status;
CREATE INDEX images_status ON images (status) WHERE status IN ('saving', 'uploading', 'importing');
DROP INDEX images_checksum;
CREATE INDEX images_checksum ON images (checksum) WHERE checksum IS NOT NULL;
DROP INDEX images_os_hash_value;
CREATE INDEX images_os_hash_value ON images (os_hash_value) WHERE os_hash_value IS NOT NULL;
-- Listings in id order sort on id COLLATE "POSIX" (the same byte order
-- as the column's "C"): the primary key does not give that order, so
-- the planner reads these indexes instead of walking the primary key and
-- filtering it (postgres.go, IDFirst).
DROP INDEX images_visibility_id;
CREATE INDEX images_visibility_id ON images (visibility, id COLLATE "POSIX");
DROP INDEX images_owner_id;
CREATE INDEX images_owner_id ON images (owner, visibility, id COLLATE "POSIX");
CREATE INDEX images_hidden_visibility ON images (visibility, created_at, id) WHERE os_hidden;
CREATE INDEX images_hidden_owner ON images (owner, visibility, created_at, id) WHERE os_hidden;

-- +goose Down
DROP INDEX images_owner_id;
CREATE INDEX images_owner_id ON images (owner, visibility, id);
DROP INDEX images_visibility_id;
CREATE INDEX images_visibility_id ON images (visibility, id);
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
CREATE INDEX image_properties_name_value ON image_properties (name, value);
DROP INDEX image_properties_name_value_order;
ALTER TABLE image_properties DROP COLUMN image_created_at;
