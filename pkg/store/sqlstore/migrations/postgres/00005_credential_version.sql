-- Credential versions: users.credential_version counts the changes that
-- must end every session verified before them (a new password, disabling,
-- a global sign-out); each session records the version it was created
-- against. A session is created only while its version is the user's, and
-- rotates only while it still is, so a login that verified the old
-- password cannot outlive a reset that finished first. Existing rows start
-- at 0 on both sides and stay valid.

-- +goose Up
ALTER TABLE users ADD COLUMN credential_version bigint NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN credential_version;
ALTER TABLE users DROP COLUMN credential_version;
