-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00029_member_sort_keys.sql:
-- memberships carry their image's sort keys, exactly as the images'
-- indexes of 00008 key them (COALESCE(name, ''), COALESCE(size, -1), ...,
-- text in the "C" collation), so that the listing's branch of images
-- shared with the caller walks one index range in any order and stops
-- after a page. Triggers keep the copies, whatever code path writes: a
-- new membership takes its image's keys (BEFORE INSERT, no second
-- write), and a change to one of an image's keys is copied to its
-- memberships. Here one trigger copies every key: PostgreSQL writes a
-- new row version with new index entries whichever columns change.
--
-- The copies are no part of an image's record and writing them does not
-- touch the images row: the revision trigger of 00028 does not fire, and
-- the record cache (records.go) holds no membership data.
--
-- id order: a listing whose first key is id sorts on images.id COLLATE
-- "POSIX" (see Dialect.IDFirst in postgres.go), so the memberships' id
-- index is in that collation too (same byte order as "C").

-- +goose Up
ALTER TABLE image_members
    ADD COLUMN image_name TEXT COLLATE "C",
    ADD COLUMN image_status TEXT COLLATE "C",
    ADD COLUMN image_container_format TEXT COLLATE "C",
    ADD COLUMN image_disk_format TEXT COLLATE "C",
    ADD COLUMN image_size BIGINT,
    ADD COLUMN image_updated_at TIMESTAMPTZ;

UPDATE image_members SET image_created_at = i.created_at, image_name = COALESCE(i.name, ''),
    image_status = i.status, image_container_format = COALESCE(i.container_format, ''),
    image_disk_format = COALESCE(i.disk_format, ''), image_size = COALESCE(i.size, -1),
    image_updated_at = i.updated_at
FROM images i WHERE i.id = image_members.image_id;

-- +goose StatementBegin
CREATE FUNCTION image_members_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT created_at, COALESCE(name, ''), status, COALESCE(container_format, ''),
           COALESCE(disk_format, ''), COALESCE(size, -1), updated_at
    INTO NEW.image_created_at, NEW.image_name, NEW.image_status, NEW.image_container_format,
         NEW.image_disk_format, NEW.image_size, NEW.image_updated_at
    FROM images WHERE id = NEW.image_id;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER image_members_sort_keys BEFORE INSERT OR UPDATE OF image_id ON image_members
    FOR EACH ROW EXECUTE FUNCTION image_members_sort_keys();

-- +goose StatementBegin
CREATE FUNCTION images_member_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE image_members SET image_created_at = NEW.created_at, image_name = COALESCE(NEW.name, ''),
        image_status = NEW.status, image_container_format = COALESCE(NEW.container_format, ''),
        image_disk_format = COALESCE(NEW.disk_format, ''), image_size = COALESCE(NEW.size, -1),
        image_updated_at = NEW.updated_at
    WHERE image_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER images_member_sort_keys
    AFTER UPDATE OF name, status, container_format, disk_format, size, updated_at, created_at ON images
    FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.container_format IS DISTINCT FROM OLD.container_format
        OR NEW.disk_format IS DISTINCT FROM OLD.disk_format OR NEW.size IS DISTINCT FROM OLD.size
        OR NEW.updated_at IS DISTINCT FROM OLD.updated_at OR NEW.created_at IS DISTINCT FROM OLD.created_at)
    EXECUTE FUNCTION images_member_sort_keys();

-- One index per sort key, as the images' indexes of 00008 (the key, then
-- the created_at, id tie-breakers); id order needs no tie-breaker.
CREATE INDEX image_members_member_name ON image_members (member, status, image_name, image_created_at, image_id);
CREATE INDEX image_members_member_status ON image_members (member, status, image_status, image_created_at, image_id);
CREATE INDEX image_members_member_container_format ON image_members (member, status, image_container_format, image_created_at, image_id);
CREATE INDEX image_members_member_disk_format ON image_members (member, status, image_disk_format, image_created_at, image_id);
CREATE INDEX image_members_member_size ON image_members (member, status, image_size, image_created_at, image_id);
CREATE INDEX image_members_member_updated_at ON image_members (member, status, image_updated_at, image_created_at, image_id);
CREATE INDEX image_members_member_id ON image_members (member, status, image_id COLLATE "POSIX");

-- +goose Down
DROP INDEX image_members_member_id;
DROP INDEX image_members_member_updated_at;
DROP INDEX image_members_member_size;
DROP INDEX image_members_member_disk_format;
DROP INDEX image_members_member_container_format;
DROP INDEX image_members_member_status;
DROP INDEX image_members_member_name;
DROP TRIGGER images_member_sort_keys ON images;
DROP FUNCTION images_member_sort_keys();
DROP TRIGGER image_members_sort_keys ON image_members;
DROP FUNCTION image_members_sort_keys();
ALTER TABLE image_members
    DROP COLUMN image_updated_at,
    DROP COLUMN image_size,
    DROP COLUMN image_disk_format,
    DROP COLUMN image_container_format,
    DROP COLUMN image_status,
    DROP COLUMN image_name;
