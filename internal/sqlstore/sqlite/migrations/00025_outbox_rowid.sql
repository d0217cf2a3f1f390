-- The outbox's ids without AUTOINCREMENT. AUTOINCREMENT keeps the highest
-- id ever used in sqlite_sequence, so every notification written also
-- rewrote that table's page: one more page in the journal for each
-- change. Plain rowids are enough: a new row gets the highest id present
-- plus one, so ids still grow in the order rows are written while any
-- are waiting, and the publisher never relies on an id it deleted.

-- +goose Up
CREATE TABLE notification_outbox_new (
    id         INTEGER PRIMARY KEY,
    event_type TEXT    NOT NULL,
    priority   TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
INSERT INTO notification_outbox_new SELECT id, event_type, priority, body, created_at FROM notification_outbox;
DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_new RENAME TO notification_outbox;
DELETE FROM sqlite_sequence WHERE name = 'notification_outbox';

-- +goose Down
CREATE TABLE notification_outbox_old (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT    NOT NULL,
    priority   TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
INSERT INTO notification_outbox_old SELECT id, event_type, priority, body, created_at FROM notification_outbox;
DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_old RENAME TO notification_outbox;
