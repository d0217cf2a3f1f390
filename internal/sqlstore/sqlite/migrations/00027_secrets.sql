-- The built-in key manager's secrets (internal/keymanager): Barbican's
-- secret metadata and the payload, sealed with the key manager's key.

-- +goose Up
CREATE TABLE secrets (
    id           TEXT    NOT NULL PRIMARY KEY,
    project_id   TEXT    NOT NULL,
    creator_id   TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret_type  TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,
    bit_length   INTEGER NOT NULL,
    mode         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    expiration   TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX secrets_project ON secrets (project_id, created_at, id);

-- +goose Down
DROP TABLE secrets;
