-- Every denylist entry authd writes (see the Postgres migration).

-- +goose Up
CREATE TABLE revocations (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind       VARCHAR(16) NOT NULL,
    subject    VARCHAR(255) NOT NULL DEFAULT '',
    value      VARCHAR(255) NOT NULL DEFAULT '',
    cutoff     BIGINT,
    until      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    KEY revocations_until_idx (until, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE revocations;
