-- Service clients, user administration and the erasure of a deleted user's
-- personal data from the audit trail.
--
-- clients: one row per client_credentials client. Only digests of secrets
-- are stored. A rotation keeps the replaced digest in prev_secret_hash
-- until prev_secret_expires_at (both NULL when there is none), so a fleet
-- can move to the new secret without an outage. scopes and audiences are
-- space-separated lists (neither a scope, RFC 6749 §3.3, nor an audience
-- URI contains a space); '' is the empty list. last_used_at is NULL until
-- the client first obtains a token.
--
-- users.last_login_at is when the user's newest session was created (NULL:
-- never); users_created_at_id_idx serves ListUsers' keyset pages in
-- (created_at, id) order.
--
-- audit_events.actor_id is who acted on the event's user (an admin), ''
-- when the user acted themselves. The append-only trigger now lets one
-- UPDATE through: setting ip and user_agent to '' and changing nothing
-- else, which is how deleting a user erases their personal data while the
-- trail (what happened to which user id, and who did it) stays. DELETE and
-- every other UPDATE are still refused. The comparison is on the whole row
-- as JSON, so a column added later is covered without touching the
-- function.

-- +goose Up
CREATE TABLE clients (
    id                     text    PRIMARY KEY,
    name                   text    NOT NULL DEFAULT '',
    secret_hash            bytea   NOT NULL,
    prev_secret_hash       bytea,
    prev_secret_expires_at bigint,
    scopes                 text    NOT NULL DEFAULT '',
    audiences              text    NOT NULL DEFAULT '',
    disabled               boolean NOT NULL DEFAULT false,
    created_at             bigint  NOT NULL,
    updated_at             bigint  NOT NULL,
    last_used_at           bigint
);

ALTER TABLE users ADD COLUMN last_login_at bigint;
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

ALTER TABLE audit_events ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND to_jsonb(NEW) = to_jsonb(OLD) || jsonb_build_object('ip', '', 'user_agent', '') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

ALTER TABLE audit_events DROP COLUMN actor_id;
DROP INDEX users_created_at_id_idx;
ALTER TABLE users DROP COLUMN last_login_at;
DROP TABLE clients;
