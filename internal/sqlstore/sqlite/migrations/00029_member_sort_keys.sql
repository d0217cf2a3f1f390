-- Memberships carry their image's sort keys, so that the branch of a
-- listing that reads the images shared with the caller
-- (internal/sqlstore/listquery.go) walks one index range in any order
-- the API accepts and stops after a page, as it has in the default order
-- since 00008 (image_created_at). Before, every other order read all of
-- the caller's memberships of a status, looked up each image and sorted
-- them.
--
-- The copies hold exactly what the images' indexes of 00008 key on
-- (COALESCE(name, ''), COALESCE(size, -1), ...), so a branch of
-- memberships and a branch of images order, and compare with a marker,
-- alike. They are kept by triggers, not by the store's statements: a new
-- membership takes its image's keys, and a change to one of an image's
-- keys is copied to its memberships, whatever code path wrote it. One
-- trigger per key, each only when its value changed: SQLite rewrites the
-- index entries of every column an UPDATE sets, and most updates of an
-- image change updated_at alone.
--
-- The copies are no part of an image's record, and writing them does not
-- touch the images row, so the revision triggers of 00028 neither fire
-- nor need to: the record cache (records.go) never holds membership data.

-- +goose Up
ALTER TABLE image_members ADD COLUMN image_name TEXT;
ALTER TABLE image_members ADD COLUMN image_status TEXT;
ALTER TABLE image_members ADD COLUMN image_container_format TEXT;
ALTER TABLE image_members ADD COLUMN image_disk_format TEXT;
ALTER TABLE image_members ADD COLUMN image_size BIGINT;
ALTER TABLE image_members ADD COLUMN image_updated_at TEXT;

UPDATE image_members SET (image_created_at, image_name, image_status, image_container_format,
        image_disk_format, image_size, image_updated_at) =
    (SELECT created_at, COALESCE(name, ''), status, COALESCE(container_format, ''),
        COALESCE(disk_format, ''), COALESCE(size, -1), updated_at
     FROM images WHERE images.id = image_members.image_id);

-- +goose StatementBegin
CREATE TRIGGER image_members_sort_keys_insert AFTER INSERT ON image_members
BEGIN
    UPDATE image_members SET (image_created_at, image_name, image_status, image_container_format,
            image_disk_format, image_size, image_updated_at) =
        (SELECT created_at, COALESCE(name, ''), status, COALESCE(container_format, ''),
            COALESCE(disk_format, ''), COALESCE(size, -1), updated_at
         FROM images WHERE images.id = NEW.image_id)
    WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_members_sort_keys_move AFTER UPDATE OF image_id ON image_members
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_members SET (image_created_at, image_name, image_status, image_container_format,
            image_disk_format, image_size, image_updated_at) =
        (SELECT created_at, COALESCE(name, ''), status, COALESCE(container_format, ''),
            COALESCE(disk_format, ''), COALESCE(size, -1), updated_at
         FROM images WHERE images.id = NEW.image_id)
    WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_name AFTER UPDATE OF name ON images
WHEN NEW.name IS NOT OLD.name
BEGIN
    UPDATE image_members SET image_name = COALESCE(NEW.name, '') WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_status AFTER UPDATE OF status ON images
WHEN NEW.status IS NOT OLD.status
BEGIN
    UPDATE image_members SET image_status = NEW.status WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_container_format AFTER UPDATE OF container_format ON images
WHEN NEW.container_format IS NOT OLD.container_format
BEGIN
    UPDATE image_members SET image_container_format = COALESCE(NEW.container_format, '') WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_disk_format AFTER UPDATE OF disk_format ON images
WHEN NEW.disk_format IS NOT OLD.disk_format
BEGIN
    UPDATE image_members SET image_disk_format = COALESCE(NEW.disk_format, '') WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_size AFTER UPDATE OF size ON images
WHEN NEW.size IS NOT OLD.size
BEGIN
    UPDATE image_members SET image_size = COALESCE(NEW.size, -1) WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_updated_at AFTER UPDATE OF updated_at ON images
WHEN NEW.updated_at IS NOT OLD.updated_at
BEGIN
    UPDATE image_members SET image_updated_at = NEW.updated_at WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- created_at never changes through the API; a verbatim write
-- (PutImage, the Glance migration) may still set it.
-- +goose StatementBegin
CREATE TRIGGER images_member_created_at AFTER UPDATE OF created_at ON images
WHEN NEW.created_at IS NOT OLD.created_at
BEGIN
    UPDATE image_members SET image_created_at = NEW.created_at WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- One index per sort key, as the images' indexes of 00008 (the key, then
-- the created_at, id tie-breakers); id order needs no tie-breaker.
CREATE INDEX image_members_member_name ON image_members (member, status, image_name, image_created_at, image_id);
CREATE INDEX image_members_member_status ON image_members (member, status, image_status, image_created_at, image_id);
CREATE INDEX image_members_member_container_format ON image_members (member, status, image_container_format, image_created_at, image_id);
CREATE INDEX image_members_member_disk_format ON image_members (member, status, image_disk_format, image_created_at, image_id);
CREATE INDEX image_members_member_size ON image_members (member, status, image_size, image_created_at, image_id);
CREATE INDEX image_members_member_updated_at ON image_members (member, status, image_updated_at, image_created_at, image_id);
CREATE INDEX image_members_member_id ON image_members (member, status, image_id);

-- +goose Down
DROP INDEX image_members_member_id;
DROP INDEX image_members_member_updated_at;
DROP INDEX image_members_member_size;
DROP INDEX image_members_member_disk_format;
DROP INDEX image_members_member_container_format;
DROP INDEX image_members_member_status;
DROP INDEX image_members_member_name;
DROP TRIGGER images_member_created_at;
DROP TRIGGER images_member_updated_at;
DROP TRIGGER images_member_size;
DROP TRIGGER images_member_disk_format;
DROP TRIGGER images_member_container_format;
DROP TRIGGER images_member_status;
DROP TRIGGER images_member_name;
DROP TRIGGER image_members_sort_keys_move;
DROP TRIGGER image_members_sort_keys_insert;
ALTER TABLE image_members DROP COLUMN image_updated_at;
ALTER TABLE image_members DROP COLUMN image_size;
ALTER TABLE image_members DROP COLUMN image_disk_format;
ALTER TABLE image_members DROP COLUMN image_container_format;
ALTER TABLE image_members DROP COLUMN image_status;
ALTER TABLE image_members DROP COLUMN image_name;
