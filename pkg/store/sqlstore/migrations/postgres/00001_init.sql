-- Initial schema: users, roles, sessions (refresh families), signing keys.
--
-- Every time is a BIGINT of Unix microseconds, UTC, as on SQLite: one
-- encoding for both dialects, exact to the microsecond, no time zone or
-- driver conversion in between. NULL means "not yet" (rotated_at,
-- revoked_at, retired_at, expires_at of a key).

-- +goose Up
CREATE TABLE users (
    id             text    PRIMARY KEY,
    email          text    NOT NULL UNIQUE,
    password_hash  text    NOT NULL,
    email_verified boolean NOT NULL DEFAULT false,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     bigint  NOT NULL,
    updated_at     bigint  NOT NULL
);

CREATE TABLE user_roles (
    user_id    text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text   NOT NULL,
    granted_at bigint NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id                text   PRIMARY KEY,
    user_id           text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id         text   NOT NULL DEFAULT '',
    user_agent        text   NOT NULL DEFAULT '',
    ip                text   NOT NULL DEFAULT '',
    refresh_jti       text   NOT NULL,
    refresh_issued_at bigint NOT NULL,
    expires_at        bigint NOT NULL,
    prev_refresh_jti  text,
    rotated_at        bigint,
    created_at        bigint NOT NULL,
    last_refreshed_at bigint NOT NULL,
    revoked_at        bigint
);

-- Leading user_id serves every per-user query (list, revoke all); created_at
-- lets ListSessions read newest first without a sort.
CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);

CREATE TABLE signing_keys (
    id                 text   PRIMARY KEY,
    algorithm          text   NOT NULL,
    public_key         bytea  NOT NULL,
    sealed_private_key bytea  NOT NULL,
    created_at         bigint NOT NULL,
    activates_at       bigint NOT NULL,
    retired_at         bigint,
    expires_at         bigint
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
