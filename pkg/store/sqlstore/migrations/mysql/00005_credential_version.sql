-- Credential versions (see the Postgres migration).

-- +goose Up
ALTER TABLE users ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN credential_version;
ALTER TABLE users DROP COLUMN credential_version;
