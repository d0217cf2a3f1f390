-- +goose Up
-- Per-project quota overrides (Glance's unified-limit names); projects
-- without a row use the configured defaults.
CREATE TABLE project_quotas (
    project_id  TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    quota_limit BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- +goose Down
DROP TABLE project_quotas;
