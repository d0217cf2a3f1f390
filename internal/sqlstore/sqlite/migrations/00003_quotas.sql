-- +goose Up
-- Per-project quota overrides (Glance's unified-limit names); projects
-- without a row use the configured defaults.
CREATE TABLE project_quotas (
    project_id  TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    quota_limit INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- +goose Down
DROP TABLE project_quotas;
