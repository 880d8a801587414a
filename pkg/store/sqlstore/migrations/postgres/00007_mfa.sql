-- Second factors: TOTP secrets (sealed by the caller), recovery codes and
-- the challenges (mfa_token) of logins waiting for their second step.
-- Digests only: a leaked table cannot be replayed. Rows go with their
-- user (ON DELETE CASCADE).

-- +goose Up
CREATE TABLE user_totp (
    user_id       text   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret bytea  NOT NULL,
    created_at    bigint NOT NULL,
    confirmed_at  bigint,
    -- The last RFC 6238 step accepted: a code is good once.
    last_step     bigint NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id    text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     bytea  NOT NULL,
    created_at bigint NOT NULL,
    used_at    bigint,
    PRIMARY KEY (user_id, digest)
);

CREATE TABLE mfa_challenges (
    digest             bytea   PRIMARY KEY,
    purpose            text    NOT NULL,
    user_id            text    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_version bigint  NOT NULL,
    network            text    NOT NULL DEFAULT '',
    amr                text    NOT NULL DEFAULT '',
    created_at         bigint  NOT NULL,
    expires_at         bigint  NOT NULL,
    failures           integer NOT NULL DEFAULT 0,
    used_at            bigint
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);

-- How the session's user last authenticated (RFC 8176 amr, space
-- separated) and when: the login, or a later step-up. Sessions from before
-- began with a password at their creation.
ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time bigint;
UPDATE sessions SET auth_time = created_at;

-- +goose Down
ALTER TABLE sessions DROP COLUMN auth_time;
ALTER TABLE sessions DROP COLUMN amr;
DROP TABLE mfa_challenges;
DROP TABLE recovery_codes;
DROP TABLE user_totp;
