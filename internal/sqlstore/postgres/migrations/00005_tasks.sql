-- Tasks, version 5: the PostgreSQL twin of
-- internal/sqlstore/sqlite/migrations/00005_tasks.sql, with the types of
-- 00001 (timestamptz times, COLLATE "C" text). input, result and context
-- stay JSON text, so both engines share the same SQL.

-- +goose Up
CREATE TABLE tasks (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    type        TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C" NOT NULL DEFAULT '',
    image_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    user_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    request_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    input       TEXT,
    result      TEXT,
    message     TEXT NOT NULL DEFAULT '',
    context     TEXT NOT NULL DEFAULT '{}',
    node        TEXT COLLATE "C" NOT NULL DEFAULT '',
    lease_until TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX tasks_created_at_id ON tasks (created_at, id);
CREATE INDEX tasks_owner ON tasks (owner, created_at, id);
CREATE INDEX tasks_status ON tasks (status, created_at);
CREATE INDEX tasks_image ON tasks (image_id);
CREATE INDEX tasks_expires_at ON tasks (expires_at);

-- +goose Down
DROP TABLE tasks;
