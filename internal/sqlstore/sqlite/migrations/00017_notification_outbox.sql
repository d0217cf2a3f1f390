-- The notification outbox (internal/sqlstore/outbox.go): notifications are
-- written by the transaction of the change they report and published from
-- here by one node at a time, under the lease in notification_publisher.
-- The body is the whole message as the broker receives it.

-- +goose Up
CREATE TABLE notification_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT    NOT NULL,
    priority   TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE TABLE notification_publisher (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    node        TEXT    NOT NULL,
    lease_until TEXT    NOT NULL
);

-- +goose Down
DROP TABLE notification_publisher;
DROP TABLE notification_outbox;
