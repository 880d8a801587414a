-- Initial schema: users, roles, sessions (refresh families), signing keys.
--
-- Every time is an INTEGER of Unix microseconds, UTC, as on Postgres. NULL
-- means "not yet" (rotated_at, revoked_at, retired_at, expires_at of a key).
-- Booleans are INTEGER 0/1. STRICT makes SQLite refuse a value of the wrong
-- type instead of silently storing it.

-- +goose Up
CREATE TABLE users (
    id             TEXT    PRIMARY KEY NOT NULL,
    email          TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    email_verified INTEGER NOT NULL DEFAULT 0,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
) STRICT;

CREATE TABLE sessions (
    id                TEXT    PRIMARY KEY NOT NULL,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id         TEXT    NOT NULL DEFAULT '',
    user_agent        TEXT    NOT NULL DEFAULT '',
    ip                TEXT    NOT NULL DEFAULT '',
    refresh_jti       TEXT    NOT NULL,
    refresh_issued_at INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    prev_refresh_jti  TEXT,
    rotated_at        INTEGER,
    created_at        INTEGER NOT NULL,
    last_refreshed_at INTEGER NOT NULL,
    revoked_at        INTEGER
) STRICT;

-- Leading user_id serves every per-user query (list, revoke all); created_at
-- lets ListSessions read newest first without a sort.
CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);

CREATE TABLE signing_keys (
    id                 TEXT    PRIMARY KEY NOT NULL,
    algorithm          TEXT    NOT NULL,
    public_key         BLOB    NOT NULL,
    sealed_private_key BLOB    NOT NULL,
    created_at         INTEGER NOT NULL,
    activates_at       INTEGER NOT NULL,
    retired_at         INTEGER,
    expires_at         INTEGER
) STRICT;

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
