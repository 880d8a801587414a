-- A signing key can be revoked (see the Postgres migration for why its row
-- stays).

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN revoked_at INTEGER;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN revoked_at;
