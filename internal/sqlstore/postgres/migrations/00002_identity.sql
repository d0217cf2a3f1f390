-- Built-in identity, version 2: the PostgreSQL twin of
-- internal/sqlstore/sqlite/migrations/00002_identity.sql. Same tables,
-- columns, keys and indexes; times are timestamptz, booleans boolean, and
-- text is COLLATE "C" so names compare and sort by bytes on both engines.

-- +goose Up
CREATE TABLE identity_domains (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    enabled     BOOLEAN NOT NULL DEFAULT TRUE
);

-- Names are unique per domain, as in Keystone.
CREATE TABLE identity_projects (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain_id   TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (domain_id, name)
);

-- default_project_id is not a foreign key: Keystone keeps it when the
-- project goes, and a login then simply falls back to an unscoped token.
CREATE TABLE identity_users (
    id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    domain_id          TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
    name               TEXT COLLATE "C" NOT NULL,
    password_hash      TEXT COLLATE "C" NOT NULL DEFAULT '',
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    default_project_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    description        TEXT COLLATE "C" NOT NULL DEFAULT '',
    email              TEXT COLLATE "C" NOT NULL DEFAULT '',
    tokens_not_before  TIMESTAMPTZ,
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_roles (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    description TEXT COLLATE "C" NOT NULL DEFAULT ''
);

-- Assignments go with whatever they refer to. PostgreSQL does not index
-- referencing columns by itself; the primary keys and the indexes below
-- cover every foreign key's lookup.
CREATE TABLE identity_project_roles (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    project_id TEXT COLLATE "C" NOT NULL REFERENCES identity_projects (id) ON DELETE CASCADE,
    role_id    TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id, role_id)
);
CREATE INDEX identity_project_roles_project ON identity_project_roles (project_id);
CREATE INDEX identity_project_roles_role ON identity_project_roles (role_id);

CREATE TABLE identity_system_roles (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX identity_system_roles_role ON identity_system_roles (role_id);

-- A revoked token's audit id, kept until the token would have expired.
CREATE TABLE identity_revoked_tokens (
    audit_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX identity_revoked_tokens_expires_at ON identity_revoked_tokens (expires_at);

-- Recent failed password logins of a user, for the login throttle.
CREATE TABLE identity_login_failures (
    user_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES identity_users (id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE identity_login_failures;
DROP TABLE identity_revoked_tokens;
DROP TABLE identity_system_roles;
DROP TABLE identity_project_roles;
DROP TABLE identity_roles;
DROP TABLE identity_users;
DROP TABLE identity_projects;
DROP TABLE identity_domains;
