-- Second factors: TOTP secrets, recovery codes and MFA challenges (see the
-- Postgres migration).

-- +goose Up
CREATE TABLE user_totp (
    user_id       VARCHAR(255) NOT NULL PRIMARY KEY,
    sealed_secret BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT user_totp_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE recovery_codes (
    user_id    VARCHAR(255) NOT NULL,
    digest     VARBINARY(255) NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, digest),
    CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE mfa_challenges (
    digest             VARBINARY(255) NOT NULL PRIMARY KEY,
    purpose            VARCHAR(64) NOT NULL,
    user_id            VARCHAR(255) NOT NULL,
    credential_version BIGINT NOT NULL,
    network            VARCHAR(255) NOT NULL DEFAULT '',
    amr                VARCHAR(255) NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    failures           INT NOT NULL DEFAULT 0,
    used_at            BIGINT,
    KEY mfa_challenges_user_id_idx (user_id),
    CONSTRAINT mfa_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE sessions ADD COLUMN amr VARCHAR(255) NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time BIGINT;
UPDATE sessions SET auth_time = created_at;

-- +goose Down
ALTER TABLE sessions DROP COLUMN auth_time;
ALTER TABLE sessions DROP COLUMN amr;
DROP TABLE mfa_challenges;
DROP TABLE recovery_codes;
DROP TABLE user_totp;
