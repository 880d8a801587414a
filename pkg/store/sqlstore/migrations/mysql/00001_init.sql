-- Initial schema: users, roles, sessions (refresh families), signing keys.
--
-- MySQL 8.0+ and MariaDB 10.6+, InnoDB, utf8mb4. Every table's collation is
-- utf8mb4_bin: comparisons are exact, byte for byte, as on Postgres and
-- SQLite. users.email holds the normalised email (trimmed, lower-cased by
-- the store, further normalised by the service), so its unique index
-- compares exactly that form: case-insensitive through normalisation, not
-- through a collation that would also fold accents or trailing spaces.
--
-- Every time is a BIGINT of Unix microseconds, UTC, as on the other
-- dialects: one codec for all three, exact to the microsecond, no
-- DATETIME(6) and so no session time zone or driver time parsing in
-- between (docs/ARCHITECTURE.md). NULL means "not yet".
--
-- Identifiers are VARCHAR(255) (InnoDB indexes need a bounded length);
-- free text that is never indexed (a user agent, a password hash) is
-- VARCHAR with room to spare, so that it can have a default.

-- +goose Up
CREATE TABLE users (
    id             VARCHAR(255) NOT NULL PRIMARY KEY,
    email          VARCHAR(320) NOT NULL,
    password_hash  VARCHAR(1024) NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE KEY users_email_key (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_roles (
    user_id    VARCHAR(255) NOT NULL,
    role       VARCHAR(255) NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role),
    CONSTRAINT user_roles_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    id                VARCHAR(255) NOT NULL PRIMARY KEY,
    user_id           VARCHAR(255) NOT NULL,
    client_id         VARCHAR(255) NOT NULL DEFAULT '',
    user_agent        VARCHAR(2048) NOT NULL DEFAULT '',
    ip                VARCHAR(255) NOT NULL DEFAULT '',
    refresh_jti       VARCHAR(255) NOT NULL,
    refresh_issued_at BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    prev_refresh_jti  VARCHAR(255),
    rotated_at        BIGINT,
    created_at        BIGINT NOT NULL,
    last_refreshed_at BIGINT NOT NULL,
    revoked_at        BIGINT,
    KEY sessions_user_id_created_at_idx (user_id, created_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE signing_keys (
    id                 VARCHAR(255) NOT NULL PRIMARY KEY,
    algorithm          VARCHAR(64) NOT NULL,
    public_key         BLOB NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at         BIGINT NOT NULL,
    activates_at       BIGINT NOT NULL,
    retired_at         BIGINT,
    expires_at         BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
