-- Service clients, user administration and the erasure of a deleted user's
-- personal data from the audit trail (see the Postgres migration for why).
--
-- As on SQLite, the trigger cannot compare whole rows, so it names every
-- column (<=> is NULL-safe equality): a migration that adds a column to
-- audit_events must add it here too, or the erasure UPDATE would let that
-- column change.

-- +goose Up
CREATE TABLE clients (
    id                     VARCHAR(255) NOT NULL PRIMARY KEY,
    name                   VARCHAR(255) NOT NULL DEFAULT '',
    secret_hash            VARBINARY(255) NOT NULL,
    prev_secret_hash       VARBINARY(255),
    prev_secret_expires_at BIGINT,
    scopes                 VARCHAR(4096) NOT NULL DEFAULT '',
    audiences              VARCHAR(4096) NOT NULL DEFAULT '',
    disabled               BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    last_used_at           BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE users ADD COLUMN last_login_at BIGINT;
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

ALTER TABLE audit_events ADD COLUMN actor_id VARCHAR(255) NOT NULL DEFAULT '';

DROP TRIGGER audit_events_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
BEGIN
    IF NOT (NEW.ip = '' AND NEW.user_agent = ''
        AND NEW.id <=> OLD.id AND NEW.at <=> OLD.at AND NEW.type <=> OLD.type AND NEW.outcome <=> OLD.outcome
        AND NEW.user_id <=> OLD.user_id AND NEW.actor_id <=> OLD.actor_id AND NEW.session_id <=> OLD.session_id
        AND NEW.detail <=> OLD.detail) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
    END IF;
END
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_events_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
BEGIN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
END
-- +goose StatementEnd

ALTER TABLE audit_events DROP COLUMN actor_id;
DROP INDEX users_created_at_id_idx ON users;
ALTER TABLE users DROP COLUMN last_login_at;
DROP TABLE clients;
