-- Memberships carry whether their image is hidden (os_hidden), so that a
-- listing of hidden images (os_hidden=true) finds the caller's hidden
-- shares in one small index instead of walking every membership of the
-- caller and looking up each image (listquery.go). Hidden images are few,
-- so the index is partial, as the images' own of 00018.
--
-- Kept like the sort keys of 00029: by triggers, whatever code path
-- writes, without touching the images row (the revision triggers of
-- 00028 do not fire).

-- +goose Up
ALTER TABLE image_members ADD COLUMN image_hidden INTEGER NOT NULL DEFAULT 0;

UPDATE image_members SET image_hidden = 1 WHERE image_id IN (SELECT id FROM images WHERE os_hidden);

-- A new membership of a visible image (nearly all) is written once.
-- +goose StatementBegin
CREATE TRIGGER image_members_hidden_insert AFTER INSERT ON image_members
WHEN EXISTS (SELECT 1 FROM images WHERE images.id = NEW.image_id AND os_hidden)
BEGIN
    UPDATE image_members SET image_hidden = 1 WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER image_members_hidden_move AFTER UPDATE OF image_id ON image_members
WHEN NEW.image_id IS NOT OLD.image_id
BEGIN
    UPDATE image_members SET image_hidden = COALESCE((SELECT os_hidden FROM images WHERE images.id = NEW.image_id), 0)
    WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER images_member_hidden AFTER UPDATE OF os_hidden ON images
WHEN NEW.os_hidden IS NOT OLD.os_hidden
BEGIN
    UPDATE image_members SET image_hidden = NEW.os_hidden WHERE image_id = NEW.id;
END;
-- +goose StatementEnd

CREATE INDEX image_members_member_hidden ON image_members (member, status, image_created_at, image_id) WHERE image_hidden;

-- +goose Down
DROP INDEX image_members_member_hidden;
DROP TRIGGER images_member_hidden;
DROP TRIGGER image_members_hidden_move;
DROP TRIGGER image_members_hidden_insert;
ALTER TABLE image_members DROP COLUMN image_hidden;
