-- Audit retention (see the Postgres migration for why): the delete
-- trigger lets through rows more than a day older than the database's
-- clock, and audit_events_at serves the purge.

-- +goose Up
CREATE INDEX audit_events_at ON audit_events (at);

CREATE INDEX sessions_user_id_created_at_id_idx ON sessions (user_id, created_at, id);
DROP INDEX sessions_user_id_created_at_idx;

DROP TRIGGER audit_events_no_delete;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN OLD.at >= (CAST(strftime('%s', 'now') AS INTEGER) - 86400) * 1000000
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_events_no_delete;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

DROP INDEX audit_events_at;

CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);
DROP INDEX sessions_user_id_created_at_id_idx;
