-- The listing indexes of images hold only the images a listing can show,
-- keyed on os_hidden after their class (visibility, or owner and
-- visibility), so that a listing reads a page of index entries whatever
-- else the catalog holds.
--
-- * Deleted images stay in the table for good (a soft delete, as Glance's:
--   their ids must never be taken again), and a listing never shows them.
--   In the indexes of 00008 they were entries like any other, each read
--   and stepped over: a cloud that has made and deleted a hundred
--   thousand snapshots read them on every page of newest-first listings,
--   and a catalog migrated from Glance with its deleted images
--   (glint admin migrate-glance --include-deleted) started that way. The indexes are
--   now partial (WHERE deleted_at IS NULL), which every listing states.
-- * Every listing also asks for hidden or visible images, never both
--   (the service turns a missing os_hidden into false), so os_hidden is
--   an equality after the class and the hidden images are a range of
--   their own. Before, the default listing stepped over them: by size
--   descending at a million images it read 20 times the rows of a page,
--   because the largest images of the benchmark's catalog are hidden,
--   as retired versions of large images are in a real one. The partial
--   indexes of hidden images (00018) are ranges of these now, and go.
--
-- * Tag, property and membership rows of deleted images go out of their
--   tables' indexes the same way: each row carries whether its image is
--   deleted (image_deleted: set by insertTag and insertProperty, and by
--   a trigger for a membership, as its sort keys are; kept by triggers),
--   and the indexes that listings walk (00007, 00008, 00018, 00029,
--   00030, 00031) hold only the rows of live images.
--
-- The names stay: SQLite is told which index a branch walks
-- (listways.go, INDEXED BY), by name.

-- +goose Up
DROP INDEX images_hidden_visibility;
DROP INDEX images_hidden_owner;

DROP INDEX images_visibility;
DROP INDEX images_visibility_name;
DROP INDEX images_visibility_status;
DROP INDEX images_visibility_container_format;
DROP INDEX images_visibility_disk_format;
DROP INDEX images_visibility_size;
DROP INDEX images_visibility_updated_at;
DROP INDEX images_visibility_id;
CREATE INDEX images_visibility ON images (visibility, os_hidden, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_name ON images (visibility, os_hidden, COALESCE(name, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_status ON images (visibility, os_hidden, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_container_format ON images (visibility, os_hidden, COALESCE(container_format, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_disk_format ON images (visibility, os_hidden, COALESCE(disk_format, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_size ON images (visibility, os_hidden, COALESCE(size, -1), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_updated_at ON images (visibility, os_hidden, updated_at, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_id ON images (visibility, os_hidden, id) WHERE deleted_at IS NULL;

DROP INDEX images_owner_visibility;
DROP INDEX images_owner_name;
DROP INDEX images_owner_status;
DROP INDEX images_owner_container_format;
DROP INDEX images_owner_disk_format;
DROP INDEX images_owner_size;
DROP INDEX images_owner_updated_at;
DROP INDEX images_owner_id;
CREATE INDEX images_owner_visibility ON images (owner, visibility, os_hidden, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_name ON images (owner, visibility, os_hidden, COALESCE(name, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_status ON images (owner, visibility, os_hidden, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_container_format ON images (owner, visibility, os_hidden, COALESCE(container_format, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_disk_format ON images (owner, visibility, os_hidden, COALESCE(disk_format, ''), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_size ON images (owner, visibility, os_hidden, COALESCE(size, -1), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_updated_at ON images (owner, visibility, os_hidden, updated_at, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_id ON images (owner, visibility, os_hidden, id) WHERE deleted_at IS NULL;

ALTER TABLE image_tags ADD COLUMN image_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE image_properties ADD COLUMN image_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE image_members ADD COLUMN image_deleted INTEGER NOT NULL DEFAULT 0;

UPDATE image_tags SET image_deleted = 1 WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);
UPDATE image_properties SET image_deleted = 1 WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);
UPDATE image_members SET image_deleted = 1 WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);

-- +goose StatementBegin
CREATE TRIGGER images_deleted AFTER UPDATE OF deleted_at ON images
WHEN (NEW.deleted_at IS NULL) IS NOT (OLD.deleted_at IS NULL)
BEGIN
    UPDATE image_tags SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
    UPDATE image_properties SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
    UPDATE image_members SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_tags_deleted_move AFTER UPDATE OF image_id ON image_tags
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_tags SET image_deleted = COALESCE((SELECT deleted_at IS NOT NULL FROM images WHERE images.id = NEW.image_id), 0)
    WHERE image_id = NEW.image_id AND value = NEW.value;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_properties_deleted_move AFTER UPDATE OF image_id ON image_properties
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_properties SET image_deleted = COALESCE((SELECT deleted_at IS NOT NULL FROM images WHERE images.id = NEW.image_id), 0)
    WHERE image_id = NEW.image_id AND name = NEW.name;
END;
-- +goose StatementEnd

-- A membership of a live image (nearly all) is written once.
-- +goose StatementBegin
CREATE TRIGGER image_members_deleted_insert AFTER INSERT ON image_members
WHEN EXISTS (SELECT 1 FROM images WHERE images.id = NEW.image_id AND deleted_at IS NOT NULL)
BEGIN
    UPDATE image_members SET image_deleted = 1 WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_members_deleted_move AFTER UPDATE OF image_id ON image_members
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_members SET image_deleted = COALESCE((SELECT deleted_at IS NOT NULL FROM images WHERE images.id = NEW.image_id), 0)
    WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

DROP INDEX image_tags_value_order;
DROP INDEX image_tags_value_name;
CREATE INDEX image_tags_value_order ON image_tags (value, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_tags_value_name ON image_tags (value, image_name, image_created_at, image_id) WHERE image_deleted = false;
DROP INDEX image_properties_name_value_order;
CREATE INDEX image_properties_name_value_order ON image_properties (name, value, image_created_at, image_id) WHERE image_deleted = false;

DROP INDEX image_members_member_order;
DROP INDEX image_members_member_name;
DROP INDEX image_members_member_status;
DROP INDEX image_members_member_container_format;
DROP INDEX image_members_member_disk_format;
DROP INDEX image_members_member_size;
DROP INDEX image_members_member_updated_at;
DROP INDEX image_members_member_id;
CREATE INDEX image_members_member_order ON image_members (member, status, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_name ON image_members (member, status, image_name, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_status ON image_members (member, status, image_status, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_container_format ON image_members (member, status, image_container_format, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_disk_format ON image_members (member, status, image_disk_format, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_size ON image_members (member, status, image_size, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_updated_at ON image_members (member, status, image_updated_at, image_created_at, image_id) WHERE image_deleted = false;
CREATE INDEX image_members_member_id ON image_members (member, status, image_id) WHERE image_deleted = false;
DROP INDEX image_members_member_hidden;
CREATE INDEX image_members_member_hidden ON image_members (member, status, image_created_at, image_id) WHERE image_hidden AND image_deleted = false;

-- +goose Down
DROP INDEX image_members_member_order;
DROP INDEX image_members_member_name;
DROP INDEX image_members_member_status;
DROP INDEX image_members_member_container_format;
DROP INDEX image_members_member_disk_format;
DROP INDEX image_members_member_size;
DROP INDEX image_members_member_updated_at;
DROP INDEX image_members_member_id;
CREATE INDEX image_members_member_order ON image_members (member, status, image_created_at, image_id);
CREATE INDEX image_members_member_name ON image_members (member, status, image_name, image_created_at, image_id);
CREATE INDEX image_members_member_status ON image_members (member, status, image_status, image_created_at, image_id);
CREATE INDEX image_members_member_container_format ON image_members (member, status, image_container_format, image_created_at, image_id);
CREATE INDEX image_members_member_disk_format ON image_members (member, status, image_disk_format, image_created_at, image_id);
CREATE INDEX image_members_member_size ON image_members (member, status, image_size, image_created_at, image_id);
CREATE INDEX image_members_member_updated_at ON image_members (member, status, image_updated_at, image_created_at, image_id);
CREATE INDEX image_members_member_id ON image_members (member, status, image_id);
DROP INDEX image_members_member_hidden;
CREATE INDEX image_members_member_hidden ON image_members (member, status, image_created_at, image_id) WHERE image_hidden;
DROP TRIGGER image_members_deleted_move;
DROP TRIGGER image_members_deleted_insert;
ALTER TABLE image_members DROP COLUMN image_deleted;

DROP INDEX image_properties_name_value_order;
CREATE INDEX image_properties_name_value_order ON image_properties (name, value, image_created_at, image_id);
DROP TRIGGER image_properties_deleted_move;
ALTER TABLE image_properties DROP COLUMN image_deleted;
DROP INDEX image_tags_value_order;
DROP INDEX image_tags_value_name;
CREATE INDEX image_tags_value_order ON image_tags (value, image_created_at, image_id);
CREATE INDEX image_tags_value_name ON image_tags (value, image_name, image_created_at, image_id);
DROP TRIGGER image_tags_deleted_move;
DROP TRIGGER images_deleted;
ALTER TABLE image_tags DROP COLUMN image_deleted;

DROP INDEX images_visibility;
DROP INDEX images_visibility_name;
DROP INDEX images_visibility_status;
DROP INDEX images_visibility_container_format;
DROP INDEX images_visibility_disk_format;
DROP INDEX images_visibility_size;
DROP INDEX images_visibility_updated_at;
DROP INDEX images_visibility_id;
CREATE INDEX images_visibility ON images (visibility, created_at, id);
CREATE INDEX images_visibility_name ON images (visibility, COALESCE(name, ''), created_at, id);
CREATE INDEX images_visibility_status ON images (visibility, status, created_at, id);
CREATE INDEX images_visibility_container_format ON images (visibility, COALESCE(container_format, ''), created_at, id);
CREATE INDEX images_visibility_disk_format ON images (visibility, COALESCE(disk_format, ''), created_at, id);
CREATE INDEX images_visibility_size ON images (visibility, COALESCE(size, -1), created_at, id);
CREATE INDEX images_visibility_updated_at ON images (visibility, updated_at, created_at, id);
CREATE INDEX images_visibility_id ON images (visibility, id);

DROP INDEX images_owner_visibility;
DROP INDEX images_owner_name;
DROP INDEX images_owner_status;
DROP INDEX images_owner_container_format;
DROP INDEX images_owner_disk_format;
DROP INDEX images_owner_size;
DROP INDEX images_owner_updated_at;
DROP INDEX images_owner_id;
CREATE INDEX images_owner_visibility ON images (owner, visibility, created_at, id);
CREATE INDEX images_owner_name ON images (owner, visibility, COALESCE(name, ''), created_at, id);
CREATE INDEX images_owner_status ON images (owner, visibility, status, created_at, id);
CREATE INDEX images_owner_container_format ON images (owner, visibility, COALESCE(container_format, ''), created_at, id);
CREATE INDEX images_owner_disk_format ON images (owner, visibility, COALESCE(disk_format, ''), created_at, id);
CREATE INDEX images_owner_size ON images (owner, visibility, COALESCE(size, -1), created_at, id);
CREATE INDEX images_owner_updated_at ON images (owner, visibility, updated_at, created_at, id);
CREATE INDEX images_owner_id ON images (owner, visibility, id);

CREATE INDEX images_hidden_visibility ON images (visibility, created_at, id) WHERE os_hidden;
CREATE INDEX images_hidden_owner ON images (owner, visibility, created_at, id) WHERE os_hidden;
