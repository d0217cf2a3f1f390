-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00007_list_order.sql:
-- indexes that let name-ordered and tag-filtered listings stop after one
-- page; tag rows carry their image's (immutable) created_at.

-- +goose Up
CREATE INDEX images_name_order ON images ((COALESCE(name, '')), created_at, id);

ALTER TABLE image_tags ADD COLUMN image_created_at TIMESTAMPTZ;
UPDATE image_tags SET image_created_at = images.created_at FROM images WHERE images.id = image_tags.image_id;
CREATE INDEX image_tags_value_order ON image_tags (value, image_created_at, image_id);

-- +goose Down
DROP INDEX image_tags_value_order;
ALTER TABLE image_tags DROP COLUMN image_created_at;
DROP INDEX images_name_order;
