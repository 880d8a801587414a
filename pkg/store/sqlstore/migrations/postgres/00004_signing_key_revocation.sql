-- A signing key can be revoked (suspected compromise): from revoked_at on
-- it neither signs nor verifies and leaves the JWKS, though its row stays
-- until expires_at so that the refresh MAC key derived from its id keeps
-- working (see docs/ARCHITECTURE.md, "Signing keys").

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN revoked_at bigint;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN revoked_at;
