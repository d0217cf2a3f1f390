-- +goose Up
-- Data that identical uploads share within a store (internal/image
-- sharing.go): one row per blob kept, with the size and sha512 glint
-- computed while receiving it, and one row per image referring to it.
-- The unique content index makes two uploads of the same data finishing
-- at once agree on one blob.
CREATE TABLE shared_data (
    store    TEXT    NOT NULL,
    blob_key TEXT    NOT NULL,
    size     INTEGER NOT NULL,
    sha512   TEXT    NOT NULL,
    PRIMARY KEY (store, blob_key)
);
CREATE UNIQUE INDEX shared_data_content ON shared_data (store, size, sha512);

CREATE TABLE shared_data_refs (
    store    TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    image_id TEXT NOT NULL,
    PRIMARY KEY (store, blob_key, image_id)
);

-- +goose Down
DROP TABLE shared_data_refs;
DROP TABLE shared_data;
