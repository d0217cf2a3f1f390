-- Built-in identity, version 2: Keystone's domains, projects, users, roles
-- and role assignments, plus what stateless tokens cannot carry (revoked
-- tokens, failed logins). Same conventions as 00001: UTC fixed-width text
-- times, 0/1 booleans. Text columns default to '' rather than NULL where
-- Keystone shows an empty string.

-- +goose Up
CREATE TABLE identity_domains (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1
);

-- Names are unique per domain, as in Keystone.
CREATE TABLE identity_projects (
    id          TEXT    NOT NULL PRIMARY KEY,
    domain_id   TEXT    NOT NULL REFERENCES identity_domains (id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (domain_id, name)
);

-- default_project_id is not a foreign key: Keystone keeps it when the
-- project goes, and a login then simply falls back to an unscoped token.
CREATE TABLE identity_users (
    id                 TEXT    NOT NULL PRIMARY KEY,
    domain_id          TEXT    NOT NULL REFERENCES identity_domains (id),
    name               TEXT    NOT NULL,
    password_hash      TEXT    NOT NULL DEFAULT '',
    enabled            INTEGER NOT NULL DEFAULT 1,
    default_project_id TEXT    NOT NULL DEFAULT '',
    description        TEXT    NOT NULL DEFAULT '',
    email              TEXT    NOT NULL DEFAULT '',
    tokens_not_before  TEXT,
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_roles (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);

-- Assignments go with whatever they refer to.
CREATE TABLE identity_project_roles (
    user_id    TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES identity_projects (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id, role_id)
);
CREATE INDEX identity_project_roles_project ON identity_project_roles (project_id);
CREATE INDEX identity_project_roles_role ON identity_project_roles (role_id);

CREATE TABLE identity_system_roles (
    user_id TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX identity_system_roles_role ON identity_system_roles (role_id);

-- A revoked token's audit id, kept until the token would have expired.
CREATE TABLE identity_revoked_tokens (
    audit_id   TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX identity_revoked_tokens_expires_at ON identity_revoked_tokens (expires_at);

-- Recent failed password logins of a user, for the login throttle.
CREATE TABLE identity_login_failures (
    user_id  TEXT    NOT NULL PRIMARY KEY REFERENCES identity_users (id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    last_at  TEXT    NOT NULL
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
