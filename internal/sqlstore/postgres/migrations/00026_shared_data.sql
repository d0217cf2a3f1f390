-- The PostgreSQL twin of
-- internal/sqlstore/sqlite/migrations/00026_shared_data.sql.

-- +goose Up
CREATE TABLE shared_data (
    store    TEXT COLLATE "C" NOT NULL,
    blob_key TEXT COLLATE "C" NOT NULL,
    size     BIGINT NOT NULL,
    sha512   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (store, blob_key)
);
CREATE UNIQUE INDEX shared_data_content ON shared_data (store, size, sha512);

CREATE TABLE shared_data_refs (
    store    TEXT COLLATE "C" NOT NULL,
    blob_key TEXT COLLATE "C" NOT NULL,
    image_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (store, blob_key, image_id)
);

-- +goose Down
DROP TABLE shared_data_refs;
DROP TABLE shared_data;
