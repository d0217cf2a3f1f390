-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00031_tag_name_order.sql:
-- tag rows carry their image's name as the images' name index keys it
-- (COALESCE(name, ''), in the "C" collation), so that a tag listed in
-- name order walks one range of image_tags_value_name and stops after a
-- page. insertTag takes the name from the image row, a trigger copies a
-- rename, and the revision trigger of 00028 no longer fires for the
-- copy, which is no part of an image's record.

-- +goose Up
DROP TRIGGER image_tags_revision ON image_tags;
CREATE TRIGGER image_tags_revision AFTER INSERT OR UPDATE OF image_id, value OR DELETE ON image_tags
    FOR EACH ROW EXECUTE FUNCTION image_sets_revision();

ALTER TABLE image_tags ADD COLUMN image_name TEXT COLLATE "C" NOT NULL DEFAULT '';

UPDATE image_tags SET image_name = COALESCE(i.name, '')
FROM images i WHERE i.id = image_tags.image_id;

-- +goose StatementBegin
CREATE FUNCTION images_tag_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE image_tags SET image_name = COALESCE(NEW.name, '') WHERE image_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER images_tag_name AFTER UPDATE OF name ON images
    FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name)
    EXECUTE FUNCTION images_tag_name();

-- A tag moved to another image (no code path does) takes that image's
-- name, as a new tag row does.
-- +goose StatementBegin
CREATE FUNCTION image_tags_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.image_name := COALESCE((SELECT name FROM images WHERE id = NEW.image_id), '');
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER image_tags_name BEFORE UPDATE OF image_id ON image_tags
    FOR EACH ROW WHEN (NEW.image_id IS DISTINCT FROM OLD.image_id)
    EXECUTE FUNCTION image_tags_name();

CREATE INDEX image_tags_value_name ON image_tags (value, image_name, image_created_at, image_id);

-- +goose Down
DROP INDEX image_tags_value_name;
DROP TRIGGER image_tags_name ON image_tags;
DROP FUNCTION image_tags_name();
DROP TRIGGER images_tag_name ON images;
DROP FUNCTION images_tag_name();
ALTER TABLE image_tags DROP COLUMN image_name;
DROP TRIGGER image_tags_revision ON image_tags;
CREATE TRIGGER image_tags_revision AFTER INSERT OR UPDATE OR DELETE ON image_tags
    FOR EACH ROW EXECUTE FUNCTION image_sets_revision();
