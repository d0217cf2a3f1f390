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
-- The names stay, as SQLite's migration keeps them (SQLite is told which
-- index a branch walks, by name).

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
CREATE INDEX images_visibility_name ON images (visibility, os_hidden, (COALESCE(name, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_status ON images (visibility, os_hidden, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_container_format ON images (visibility, os_hidden, (COALESCE(container_format, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_disk_format ON images (visibility, os_hidden, (COALESCE(disk_format, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_size ON images (visibility, os_hidden, (COALESCE(size, -1)), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_updated_at ON images (visibility, os_hidden, updated_at, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_visibility_id ON images (visibility, os_hidden, id COLLATE "POSIX") WHERE deleted_at IS NULL;

DROP INDEX images_owner_visibility;
DROP INDEX images_owner_name;
DROP INDEX images_owner_status;
DROP INDEX images_owner_container_format;
DROP INDEX images_owner_disk_format;
DROP INDEX images_owner_size;
DROP INDEX images_owner_updated_at;
DROP INDEX images_owner_id;
CREATE INDEX images_owner_visibility ON images (owner, visibility, os_hidden, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_name ON images (owner, visibility, os_hidden, (COALESCE(name, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_status ON images (owner, visibility, os_hidden, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_container_format ON images (owner, visibility, os_hidden, (COALESCE(container_format, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_disk_format ON images (owner, visibility, os_hidden, (COALESCE(disk_format, '')), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_size ON images (owner, visibility, os_hidden, (COALESCE(size, -1)), created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_updated_at ON images (owner, visibility, os_hidden, updated_at, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX images_owner_id ON images (owner, visibility, os_hidden, id COLLATE "POSIX") WHERE deleted_at IS NULL;

ALTER TABLE image_tags ADD COLUMN image_deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE image_properties ADD COLUMN image_deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE image_members ADD COLUMN image_deleted BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE image_tags SET image_deleted = TRUE WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);
UPDATE image_properties SET image_deleted = TRUE WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);
UPDATE image_members SET image_deleted = TRUE WHERE image_id IN (SELECT id FROM images WHERE deleted_at IS NOT NULL);

-- +goose StatementBegin
CREATE FUNCTION images_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE image_tags SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
    UPDATE image_properties SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
    UPDATE image_members SET image_deleted = NEW.deleted_at IS NOT NULL WHERE image_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER images_deleted AFTER UPDATE OF deleted_at ON images
    FOR EACH ROW WHEN ((NEW.deleted_at IS NULL) IS DISTINCT FROM (OLD.deleted_at IS NULL))
    EXECUTE FUNCTION images_deleted();

-- +goose StatementBegin
CREATE FUNCTION image_row_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.image_deleted := COALESCE((SELECT deleted_at IS NOT NULL FROM images WHERE id = NEW.image_id), FALSE);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER image_tags_deleted BEFORE UPDATE OF image_id ON image_tags
    FOR EACH ROW WHEN (NEW.image_id IS DISTINCT FROM OLD.image_id)
    EXECUTE FUNCTION image_row_deleted();

CREATE TRIGGER image_properties_deleted BEFORE UPDATE OF image_id ON image_properties
    FOR EACH ROW WHEN (NEW.image_id IS DISTINCT FROM OLD.image_id)
    EXECUTE FUNCTION image_row_deleted();

-- A membership takes it from its image when written, as its sort keys.
CREATE TRIGGER image_members_deleted BEFORE INSERT OR UPDATE OF image_id ON image_members
    FOR EACH ROW EXECUTE FUNCTION image_row_deleted();

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
CREATE INDEX image_members_member_id ON image_members (member, status, image_id COLLATE "POSIX") WHERE image_deleted = false;
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
CREATE INDEX image_members_member_id ON image_members (member, status, image_id COLLATE "POSIX");
DROP INDEX image_members_member_hidden;
CREATE INDEX image_members_member_hidden ON image_members (member, status, image_created_at, image_id) WHERE image_hidden;
DROP TRIGGER image_members_deleted ON image_members;
ALTER TABLE image_members DROP COLUMN image_deleted;

DROP INDEX image_properties_name_value_order;
CREATE INDEX image_properties_name_value_order ON image_properties (name, value, image_created_at, image_id);
DROP TRIGGER image_properties_deleted ON image_properties;
ALTER TABLE image_properties DROP COLUMN image_deleted;
DROP INDEX image_tags_value_order;
DROP INDEX image_tags_value_name;
CREATE INDEX image_tags_value_order ON image_tags (value, image_created_at, image_id);
CREATE INDEX image_tags_value_name ON image_tags (value, image_name, image_created_at, image_id);
DROP TRIGGER image_tags_deleted ON image_tags;
DROP FUNCTION image_row_deleted();
DROP TRIGGER images_deleted ON images;
DROP FUNCTION images_deleted();
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
CREATE INDEX images_visibility_name ON images (visibility, (COALESCE(name, '')), created_at, id);
CREATE INDEX images_visibility_status ON images (visibility, status, created_at, id);
CREATE INDEX images_visibility_container_format ON images (visibility, (COALESCE(container_format, '')), created_at, id);
CREATE INDEX images_visibility_disk_format ON images (visibility, (COALESCE(disk_format, '')), created_at, id);
CREATE INDEX images_visibility_size ON images (visibility, (COALESCE(size, -1)), created_at, id);
CREATE INDEX images_visibility_updated_at ON images (visibility, updated_at, created_at, id);
CREATE INDEX images_visibility_id ON images (visibility, id COLLATE "POSIX");

DROP INDEX images_owner_visibility;
DROP INDEX images_owner_name;
DROP INDEX images_owner_status;
DROP INDEX images_owner_container_format;
DROP INDEX images_owner_disk_format;
DROP INDEX images_owner_size;
DROP INDEX images_owner_updated_at;
DROP INDEX images_owner_id;
CREATE INDEX images_owner_visibility ON images (owner, visibility, created_at, id);
CREATE INDEX images_owner_name ON images (owner, visibility, (COALESCE(name, '')), created_at, id);
CREATE INDEX images_owner_status ON images (owner, visibility, status, created_at, id);
CREATE INDEX images_owner_container_format ON images (owner, visibility, (COALESCE(container_format, '')), created_at, id);
CREATE INDEX images_owner_disk_format ON images (owner, visibility, (COALESCE(disk_format, '')), created_at, id);
CREATE INDEX images_owner_size ON images (owner, visibility, (COALESCE(size, -1)), created_at, id);
CREATE INDEX images_owner_updated_at ON images (owner, visibility, updated_at, created_at, id);
CREATE INDEX images_owner_id ON images (owner, visibility, id COLLATE "POSIX");

CREATE INDEX images_hidden_visibility ON images (visibility, created_at, id) WHERE os_hidden;
CREATE INDEX images_hidden_owner ON images (owner, visibility, created_at, id) WHERE os_hidden;
