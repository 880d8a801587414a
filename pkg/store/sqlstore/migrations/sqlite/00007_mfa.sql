-- Second factors: TOTP secrets (sealed by the caller), recovery codes and
-- the challenges (mfa_token) of logins waiting for their second step. See
-- the Postgres migration.

-- +goose Up
CREATE TABLE user_totp (
    user_id       TEXT    PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE recovery_codes (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, digest)
) STRICT;

CREATE TABLE mfa_challenges (
    digest             BLOB    PRIMARY KEY NOT NULL,
    purpose            TEXT    NOT NULL,
    user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_version INTEGER NOT NULL,
    network            TEXT    NOT NULL DEFAULT '',
    amr                TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    failures           INTEGER NOT NULL DEFAULT 0,
    used_at            INTEGER
) STRICT;
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
UPDATE sessions SET auth_time = created_at;

-- +goose Down
ALTER TABLE sessions DROP COLUMN auth_time;
ALTER TABLE sessions DROP COLUMN amr;
DROP TABLE mfa_challenges;
DROP TABLE recovery_codes;
DROP TABLE user_totp;
