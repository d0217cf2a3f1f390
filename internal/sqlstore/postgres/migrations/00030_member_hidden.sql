-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00030_member_hidden.sql:
-- memberships carry whether their image is hidden (os_hidden), so that a
-- listing of hidden images finds the caller's hidden shares in one small
-- partial index instead of walking every membership of the caller. The
-- triggers of 00029 are replaced by ones that copy os_hidden as well.

-- +goose Up
ALTER TABLE image_members ADD COLUMN image_hidden BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE image_members SET image_hidden = TRUE
FROM images i WHERE i.id = image_members.image_id AND i.os_hidden;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION image_members_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT created_at, COALESCE(name, ''), status, COALESCE(container_format, ''),
           COALESCE(disk_format, ''), COALESCE(size, -1), updated_at, os_hidden
    INTO NEW.image_created_at, NEW.image_name, NEW.image_status, NEW.image_container_format,
         NEW.image_disk_format, NEW.image_size, NEW.image_updated_at, NEW.image_hidden
    FROM images WHERE id = NEW.image_id;
    NEW.image_hidden = COALESCE(NEW.image_hidden, FALSE);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION images_member_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE image_members SET image_created_at = NEW.created_at, image_name = COALESCE(NEW.name, ''),
        image_status = NEW.status, image_container_format = COALESCE(NEW.container_format, ''),
        image_disk_format = COALESCE(NEW.disk_format, ''), image_size = COALESCE(NEW.size, -1),
        image_updated_at = NEW.updated_at, image_hidden = NEW.os_hidden
    WHERE image_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

DROP TRIGGER images_member_sort_keys ON images;
CREATE TRIGGER images_member_sort_keys
    AFTER UPDATE OF name, status, container_format, disk_format, size, updated_at, created_at, os_hidden ON images
    FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.container_format IS DISTINCT FROM OLD.container_format
        OR NEW.disk_format IS DISTINCT FROM OLD.disk_format OR NEW.size IS DISTINCT FROM OLD.size
        OR NEW.updated_at IS DISTINCT FROM OLD.updated_at OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR NEW.os_hidden IS DISTINCT FROM OLD.os_hidden)
    EXECUTE FUNCTION images_member_sort_keys();

CREATE INDEX image_members_member_hidden ON image_members (member, status, image_created_at, image_id) WHERE image_hidden;

-- +goose Down
DROP INDEX image_members_member_hidden;
DROP TRIGGER images_member_sort_keys ON images;
CREATE TRIGGER images_member_sort_keys
    AFTER UPDATE OF name, status, container_format, disk_format, size, updated_at, created_at ON images
    FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.container_format IS DISTINCT FROM OLD.container_format
        OR NEW.disk_format IS DISTINCT FROM OLD.disk_format OR NEW.size IS DISTINCT FROM OLD.size
        OR NEW.updated_at IS DISTINCT FROM OLD.updated_at OR NEW.created_at IS DISTINCT FROM OLD.created_at)
    EXECUTE FUNCTION images_member_sort_keys();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION images_member_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION image_members_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE image_members DROP COLUMN image_hidden;
