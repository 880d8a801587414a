-- Service clients, user administration and the erasure of a deleted user's
-- personal data from the audit trail (see the Postgres migration for why).
--
-- SQLite's trigger cannot compare whole rows, so it names every column:
-- a migration that adds a column to audit_events must add it here too, or
-- the erasure UPDATE would let that column change.

-- +goose Up
CREATE TABLE clients (
    id                     TEXT    PRIMARY KEY NOT NULL,
    name                   TEXT    NOT NULL DEFAULT '',
    secret_hash            BLOB    NOT NULL,
    prev_secret_hash       BLOB,
    prev_secret_expires_at INTEGER,
    scopes                 TEXT    NOT NULL DEFAULT '',
    audiences              TEXT    NOT NULL DEFAULT '',
    disabled               INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    last_used_at           INTEGER
) STRICT;

ALTER TABLE users ADD COLUMN last_login_at INTEGER;
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

ALTER TABLE audit_events ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';

DROP TRIGGER audit_events_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (NEW.ip = '' AND NEW.user_agent = ''
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.type IS OLD.type AND NEW.outcome IS OLD.outcome
    AND NEW.user_id IS OLD.user_id AND NEW.actor_id IS OLD.actor_id AND NEW.session_id IS OLD.session_id
    AND NEW.detail IS OLD.detail)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_events_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

ALTER TABLE audit_events DROP COLUMN actor_id;
DROP INDEX users_created_at_id_idx;
ALTER TABLE users DROP COLUMN last_login_at;
DROP TABLE clients;
