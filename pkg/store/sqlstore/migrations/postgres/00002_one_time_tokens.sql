-- One-time tokens mailed to users: email verification and password reset.
--
-- Only a digest of each token is stored (hash, the primary key and lookup
-- key), so a leaked table cannot be replayed. purpose is part of every
-- lookup, so a token of one kind is unknown to every other. email is the
-- address the token was mailed to. used_at is NULL until the token is
-- consumed; consumption is one UPDATE ... WHERE used_at IS NULL.

-- +goose Up
CREATE TABLE one_time_tokens (
    hash       bytea  PRIMARY KEY,
    purpose    text   NOT NULL,
    user_id    text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text   NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);

-- Issuing a token deletes the user's earlier ones of the same purpose.
CREATE INDEX one_time_tokens_user_id_purpose_idx ON one_time_tokens (user_id, purpose);

-- +goose Down
DROP TABLE one_time_tokens;
