-- Tag rows carry their image's name as the images' name index keys it
-- (COALESCE(name, '')), so that a listing of a tag in name order
-- (`?tag=T&sort_key=name`, the dashboard's and openstackclient's order)
-- walks one range of image_tags_value_name and stops after a page, as a
-- tag in creation order has walked image_tags_value_order since 00007.
-- Before, such a listing read every row of the tag and sorted them when
-- the tag had at most a thousand images, and otherwise walked each
-- visibility branch in name order testing the tag on every image: a tag
-- on 2 % of a million images read 20,000 rows per page.
--
-- Only the name is copied. Every other sort key of a tag's listing keeps
-- the plans of listsets.go: copies of them all (as memberships carry,
-- 00029) would put six more index entries on every tag row, and
-- updated_at, which changes on every PATCH, would rewrite all of an
-- image's tag rows each time.
--
-- insertTag (internal/sqlstore/images.go), the one statement that adds
-- tags, takes the name from the image row; a trigger copies a rename.
-- The copy is no part of an image's record, so the revision trigger of
-- 00028 now fires only for the columns that are (image_id, value): a
-- rename bumps the revision once, through the images row.

-- +goose Up
DROP TRIGGER image_tags_revision_update;

-- +goose StatementBegin
CREATE TRIGGER image_tags_revision_update AFTER UPDATE OF image_id, value ON image_tags
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id IN (OLD.image_id, NEW.image_id);
END;
-- +goose StatementEnd

ALTER TABLE image_tags ADD COLUMN image_name TEXT NOT NULL DEFAULT '';

UPDATE image_tags SET image_name = COALESCE((SELECT name FROM images WHERE images.id = image_tags.image_id), '');

-- +goose StatementBegin
CREATE TRIGGER images_tag_name AFTER UPDATE OF name ON images
WHEN NEW.name IS NOT OLD.name
BEGIN
    UPDATE image_tags SET image_name = COALESCE(NEW.name, '') WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

-- A tag moved to another image (no code path does) takes that image's
-- name, as a new tag row does.
-- +goose StatementBegin
CREATE TRIGGER image_tags_name_move AFTER UPDATE OF image_id ON image_tags
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_tags SET image_name = COALESCE((SELECT name FROM images WHERE images.id = NEW.image_id), '')
    WHERE image_id = NEW.image_id AND value = NEW.value;
END;
-- +goose StatementEnd

-- The name, then the created_at, id tie-breakers, as images_name_order.
CREATE INDEX image_tags_value_name ON image_tags (value, image_name, image_created_at, image_id);

-- +goose Down
DROP INDEX image_tags_value_name;
DROP TRIGGER image_tags_name_move;
DROP TRIGGER images_tag_name;
ALTER TABLE image_tags DROP COLUMN image_name;
DROP TRIGGER image_tags_revision_update;

-- +goose StatementBegin
CREATE TRIGGER image_tags_revision_update AFTER UPDATE ON image_tags
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id IN (OLD.image_id, NEW.image_id);
END;
-- +goose StatementEnd
