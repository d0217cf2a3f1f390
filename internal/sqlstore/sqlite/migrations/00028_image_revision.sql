-- Every image row carries a revision that changes whenever anything a
-- show or a listing returns of it changes: the row itself, its
-- properties, its tags. The store's cache of image records
-- (internal/sqlstore/records.go) keeps a record with the revision it was
-- read at and serves it only to a query that reads the same revision in
-- its own snapshot, so it stays correct whatever process wrote, and
-- whatever code path: the triggers below bump the revision, not the
-- store's statements.
--
-- Revisions count up per row. A row deleted (a purge) and inserted again
-- with the same id must not start over at a revision an old cached copy
-- holds, so each DELETE of an image row moves a generation counter on,
-- and a new row starts at its generation times 2^32 (rows inserted
-- before any purge start at 0, with no write at all).

-- +goose Up
ALTER TABLE images ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TABLE image_generation (n INTEGER NOT NULL);
INSERT INTO image_generation (n) VALUES (0);

-- +goose StatementBegin
CREATE TRIGGER images_revision_insert AFTER INSERT ON images
WHEN (SELECT n FROM image_generation) > 0
BEGIN
    UPDATE images SET revision = (SELECT n FROM image_generation) * 4294967296 WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- An UPDATE that sets the revision itself (the triggers' own) is left
-- alone; any other bumps it.
-- +goose StatementBegin
CREATE TRIGGER images_revision_update AFTER UPDATE ON images
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE images SET revision = OLD.revision + 1 WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_revision_delete AFTER DELETE ON images
BEGIN
    UPDATE image_generation SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_properties_revision_insert AFTER INSERT ON image_properties
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id = NEW.image_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_properties_revision_update AFTER UPDATE ON image_properties
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id IN (OLD.image_id, NEW.image_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_properties_revision_delete AFTER DELETE ON image_properties
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id = OLD.image_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_tags_revision_insert AFTER INSERT ON image_tags
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id = NEW.image_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_tags_revision_update AFTER UPDATE ON image_tags
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id IN (OLD.image_id, NEW.image_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_tags_revision_delete AFTER DELETE ON image_tags
BEGIN
    UPDATE images SET revision = revision + 1 WHERE id = OLD.image_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER image_tags_revision_delete;
DROP TRIGGER image_tags_revision_update;
DROP TRIGGER image_tags_revision_insert;
DROP TRIGGER image_properties_revision_delete;
DROP TRIGGER image_properties_revision_update;
DROP TRIGGER image_properties_revision_insert;
DROP TRIGGER images_revision_delete;
DROP TRIGGER images_revision_update;
DROP TRIGGER images_revision_insert;
DROP TABLE image_generation;
ALTER TABLE images DROP COLUMN revision;
