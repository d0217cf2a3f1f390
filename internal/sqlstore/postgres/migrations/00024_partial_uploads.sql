-- The PostgreSQL twin of
-- internal/sqlstore/sqlite/migrations/00024_partial_uploads.sql.

-- +goose Up
CREATE TABLE partial_uploads (
    image_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('file', 'stage')),
    owner        TEXT COLLATE "C" NOT NULL,
    store        TEXT COLLATE "C" NOT NULL,
    blob_key     TEXT COLLATE "C" NOT NULL,
    received     BIGINT NOT NULL CHECK (received >= 0),
    total        BIGINT NOT NULL,
    hash_state   BYTEA,
    format_state BYTEA,
    blob_state   BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX partial_uploads_owner ON partial_uploads (owner);
CREATE INDEX partial_uploads_expires ON partial_uploads (expires_at);

-- +goose Down
DROP TABLE partial_uploads;
