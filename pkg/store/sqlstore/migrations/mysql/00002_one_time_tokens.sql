-- One-time tokens mailed to users (see the Postgres migration for why only
-- digests are stored and how consumption is atomic).

-- +goose Up
CREATE TABLE one_time_tokens (
    hash       VARBINARY(255) NOT NULL PRIMARY KEY,
    purpose    VARCHAR(64) NOT NULL,
    user_id    VARCHAR(255) NOT NULL,
    email      VARCHAR(320) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    KEY one_time_tokens_user_id_purpose_idx (user_id, purpose),
    CONSTRAINT one_time_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE one_time_tokens;
