-- Append-only audit trail. A trigger refuses UPDATE and DELETE, so an
-- application bug (or an attacker with the application's credentials using
-- its code paths) cannot rewrite history; retention is an operator's job
-- (TRUNCATE or a partition drop by a privileged role).

-- +goose Up
CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    type       TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    user_id    TEXT   NOT NULL DEFAULT '',
    session_id TEXT   NOT NULL DEFAULT '',
    ip         TEXT   NOT NULL DEFAULT '',
    user_agent TEXT   NOT NULL DEFAULT '',
    detail     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_user_id ON audit_events (user_id, id);

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
