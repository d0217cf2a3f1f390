-- Indexes and layouts that let the common listings touch one page of rows
-- instead of sorting every visible image.
--
-- * Name order (openstackclient's `image list` asks for sort_key=name):
--   the sort expression itself, with the created_at, id tie-breakers.
-- * Tag filters: each tag row carries its image's created_at (which never
--   changes), so "images tagged T, newest first" walks one index range.
-- * Properties and tags are stored WITHOUT ROWID, clustered by image: the
--   sets of a page of images are read with one seek per image instead of
--   one seek per property plus one to fetch its row.

-- +goose Up
CREATE INDEX images_name_order ON images (COALESCE(name, ''), created_at, id);

CREATE TABLE image_properties_new (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
) WITHOUT ROWID;
INSERT INTO image_properties_new (image_id, name, value) SELECT image_id, name, value FROM image_properties;
DROP TABLE image_properties;
ALTER TABLE image_properties_new RENAME TO image_properties;
CREATE INDEX image_properties_name_value ON image_properties (name, value);

CREATE TABLE image_tags_new (
    image_id         TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value            TEXT NOT NULL,
    image_created_at TEXT NOT NULL,
    PRIMARY KEY (image_id, value)
) WITHOUT ROWID;
INSERT INTO image_tags_new (image_id, value, image_created_at)
    SELECT t.image_id, t.value, i.created_at FROM image_tags t JOIN images i ON i.id = t.image_id;
DROP TABLE image_tags;
ALTER TABLE image_tags_new RENAME TO image_tags;
CREATE INDEX image_tags_value ON image_tags (value);
CREATE INDEX image_tags_value_order ON image_tags (value, image_created_at, image_id);

-- +goose Down
DROP INDEX images_name_order;

CREATE TABLE image_properties_old (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
);
INSERT INTO image_properties_old SELECT image_id, name, value FROM image_properties;
DROP TABLE image_properties;
ALTER TABLE image_properties_old RENAME TO image_properties;
CREATE INDEX image_properties_name_value ON image_properties (name, value);

CREATE TABLE image_tags_old (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, value)
);
INSERT INTO image_tags_old SELECT image_id, value FROM image_tags;
DROP TABLE image_tags;
ALTER TABLE image_tags_old RENAME TO image_tags;
CREATE INDEX image_tags_value ON image_tags (value);
