-- A signing key can be revoked (see the Postgres migration).

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN revoked_at;
