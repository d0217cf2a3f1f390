-- Tasks (Glance's /v2/tasks records, written by image import), version 5.
-- Same conventions as 00001: UTC fixed-width text times. input and result
-- are JSON text shown to clients; context is the runner's own JSON (on
-- whose behalf the task runs), never shown. A task is leased to one runner
-- (node) until lease_until; a lease that ran out belongs to a dead runner
-- and any other may claim the task. Finished tasks are deleted once
-- expires_at has passed.

-- +goose Up
CREATE TABLE tasks (
    id          TEXT    NOT NULL PRIMARY KEY,
    type        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    image_id    TEXT    NOT NULL DEFAULT '',
    user_id     TEXT    NOT NULL DEFAULT '',
    request_id  TEXT    NOT NULL DEFAULT '',
    input       TEXT,
    result      TEXT,
    message     TEXT    NOT NULL DEFAULT '',
    context     TEXT    NOT NULL DEFAULT '{}',
    node        TEXT    NOT NULL DEFAULT '',
    lease_until TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Listings walk created_at, id, for everyone (admins) or one owner; the
-- runners look for runnable tasks by status; an image shows its tasks.
CREATE INDEX tasks_created_at_id ON tasks (created_at, id);
CREATE INDEX tasks_owner ON tasks (owner, created_at, id);
CREATE INDEX tasks_status ON tasks (status, created_at);
CREATE INDEX tasks_image ON tasks (image_id);
CREATE INDEX tasks_expires_at ON tasks (expires_at);

-- +goose Down
DROP TABLE tasks;
