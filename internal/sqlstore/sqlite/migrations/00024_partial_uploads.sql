-- Partial uploads (resumable uploads, internal/image/partial.go): the
-- bytes of an image's data received so far, kept in a blob driver's
-- resumable state, with the hash and format-inspector states after them,
-- so a later PUT on any node continues where the last one stopped. One per
-- image (an upload or a stage); the bytes count against the owner's
-- image_size_total or image_stage_total.

-- +goose Up
CREATE TABLE partial_uploads (
    image_id     TEXT    NOT NULL PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('file', 'stage')),
    owner        TEXT    NOT NULL,
    store        TEXT    NOT NULL,
    blob_key     TEXT    NOT NULL,
    received     BIGINT  NOT NULL CHECK (received >= 0),
    total        BIGINT  NOT NULL,
    hash_state   BLOB,
    format_state BLOB,
    blob_state   BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);
CREATE INDEX partial_uploads_owner ON partial_uploads (owner);
CREATE INDEX partial_uploads_expires ON partial_uploads (expires_at);

-- +goose Down
DROP TABLE partial_uploads;
