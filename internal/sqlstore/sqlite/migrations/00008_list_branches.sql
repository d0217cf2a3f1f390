-- Indexes that let every listing the API accepts read one page of rows
-- (internal/sqlstore/listquery.go). A listing is a merge of branches, one
-- per way an image can be visible: a visibility class, the caller's own
-- images of one visibility, the images shared with the caller. Each branch
-- walks one index range that is already in the requested order and stops
-- after a page:
--
-- * visibility, and owner then visibility, each followed by every sort
--   key Glance accepts and the created_at, id tie-breakers (visibility
--   with created_at has them since 00001); id is unique, so it needs no
--   tie-breaker. (owner, visibility, created_at, id) replaces
--   (owner, created_at, id), which it also serves.
-- * memberships carry their image's created_at (which never changes), so
--   "images shared with P and accepted, newest first" is one index range.
-- * The indexes of created_at and of name order across all images
--   (00001, 00007) go: the branches' indexes serve every listing they
--   served, and left in place they tempt PostgreSQL's planner to walk
--   the whole catalog in order and filter it.
-- * checksum and os_hash_value, which filters name exactly, as Glance
--   indexes them.

-- +goose Up
CREATE INDEX images_visibility_name ON images (visibility, COALESCE(name, ''), created_at, id);
CREATE INDEX images_visibility_status ON images (visibility, status, created_at, id);
CREATE INDEX images_visibility_container_format ON images (visibility, COALESCE(container_format, ''), created_at, id);
CREATE INDEX images_visibility_disk_format ON images (visibility, COALESCE(disk_format, ''), created_at, id);
CREATE INDEX images_visibility_size ON images (visibility, COALESCE(size, -1), created_at, id);
CREATE INDEX images_visibility_updated_at ON images (visibility, updated_at, created_at, id);
CREATE INDEX images_visibility_id ON images (visibility, id);
CREATE INDEX images_owner_visibility ON images (owner, visibility, created_at, id);
CREATE INDEX images_owner_name ON images (owner, visibility, COALESCE(name, ''), created_at, id);
CREATE INDEX images_owner_status ON images (owner, visibility, status, created_at, id);
CREATE INDEX images_owner_container_format ON images (owner, visibility, COALESCE(container_format, ''), created_at, id);
CREATE INDEX images_owner_disk_format ON images (owner, visibility, COALESCE(disk_format, ''), created_at, id);
CREATE INDEX images_owner_size ON images (owner, visibility, COALESCE(size, -1), created_at, id);
CREATE INDEX images_owner_updated_at ON images (owner, visibility, updated_at, created_at, id);
CREATE INDEX images_owner_id ON images (owner, visibility, id);
CREATE INDEX images_checksum ON images (checksum);
CREATE INDEX images_os_hash_value ON images (os_hash_value);
DROP INDEX images_owner;
DROP INDEX images_created_at_id;
DROP INDEX images_name_order;

ALTER TABLE image_members ADD COLUMN image_created_at TEXT;
UPDATE image_members SET image_created_at = (SELECT created_at FROM images WHERE images.id = image_members.image_id);
CREATE INDEX image_members_member_order ON image_members (member, status, image_created_at, image_id);

-- +goose Down
DROP INDEX image_members_member_order;
ALTER TABLE image_members DROP COLUMN image_created_at;
CREATE INDEX images_owner ON images (owner, created_at, id);
CREATE INDEX images_created_at_id ON images (created_at, id);
CREATE INDEX images_name_order ON images (COALESCE(name, ''), created_at, id);
DROP INDEX images_os_hash_value;
DROP INDEX images_checksum;
DROP INDEX images_owner_visibility;
DROP INDEX images_visibility_name;
DROP INDEX images_visibility_status;
DROP INDEX images_visibility_container_format;
DROP INDEX images_visibility_disk_format;
DROP INDEX images_visibility_size;
DROP INDEX images_visibility_updated_at;
DROP INDEX images_visibility_id;
DROP INDEX images_owner_name;
DROP INDEX images_owner_status;
DROP INDEX images_owner_container_format;
DROP INDEX images_owner_disk_format;
DROP INDEX images_owner_size;
DROP INDEX images_owner_updated_at;
DROP INDEX images_owner_id;
