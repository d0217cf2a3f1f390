-- The PostgreSQL twin of internal/sqlstore/sqlite/migrations/00028_image_revision.sql:
-- every image row carries a revision that changes whenever anything a
-- show or a listing returns of it changes (the row, its properties, its
-- tags), so that each glint node's cache of image records
-- (internal/sqlstore/records.go) can check a cached record against the
-- revision its query reads. Here the revision is drawn from a sequence
-- in a BEFORE trigger: no second write of the row, unique across rows
-- and across a purge and a new row of the same id, and a rolled-back
-- value is never used again. A property or tag change touches its image
-- row, whose trigger then draws the new revision.

-- +goose Up
CREATE SEQUENCE image_revision;
ALTER TABLE images ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION images_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := nextval('image_revision');
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER images_revision BEFORE INSERT OR UPDATE ON images
    FOR EACH ROW EXECUTE FUNCTION images_revision();

-- +goose StatementBegin
CREATE FUNCTION image_sets_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE images SET revision = 0 WHERE id = OLD.image_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.image_id <> OLD.image_id) THEN
        UPDATE images SET revision = 0 WHERE id = NEW.image_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER image_properties_revision AFTER INSERT OR UPDATE OR DELETE ON image_properties
    FOR EACH ROW EXECUTE FUNCTION image_sets_revision();
CREATE TRIGGER image_tags_revision AFTER INSERT OR UPDATE OR DELETE ON image_tags
    FOR EACH ROW EXECUTE FUNCTION image_sets_revision();

-- +goose Down
DROP TRIGGER image_tags_revision ON image_tags;
DROP TRIGGER image_properties_revision ON image_properties;
DROP FUNCTION image_sets_revision();
DROP TRIGGER images_revision ON images;
DROP FUNCTION images_revision();
ALTER TABLE images DROP COLUMN revision;
DROP SEQUENCE image_revision;
