-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00027_secrets.sql.

-- +goose Up
CREATE TABLE secrets (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project_id   TEXT COLLATE "C" NOT NULL,
    creator_id   TEXT COLLATE "C" NOT NULL,
    name         TEXT NOT NULL,
    secret_type  TEXT COLLATE "C" NOT NULL,
    algorithm    TEXT NOT NULL,
    bit_length   INTEGER NOT NULL,
    mode         TEXT NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    payload      BYTEA NOT NULL,
    expiration   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX secrets_project ON secrets (project_id, created_at, id);

-- +goose Down
DROP TABLE secrets;
