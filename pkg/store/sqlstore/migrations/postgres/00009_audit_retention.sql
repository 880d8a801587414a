-- Audit retention (AUTHD_AUDIT_RETENTION) and the indexes the hot queries
-- need at a million users.
--
-- The append-only trigger now lets one DELETE through: of a row whose at
-- is more than a day older than the database's own clock. That is the
-- purge of expired events; the erasure UPDATE of 00006 stays the only
-- UPDATE allowed. A day is the shortest retention authd accepts, so the
-- trail of the last day cannot be deleted by the application's database
-- user whatever it runs; rows older than that could be purged by it
-- anyway. An INSERT may carry any at, but a back-dated row is one the
-- writer made up, so deleting it hides nothing that happened. The clock is
-- clock_timestamp(), not the caller's, so a caller cannot move it.
--
-- audit_events_at serves the purge: the oldest rows before a cutoff, in at
-- order, a bounded batch at a time. sessions_user_id_created_at_id_idx
-- replaces sessions_user_id_created_at_idx (a prefix of it): ListSessions
-- orders by (created_at, id) newest first, and with id in the index it
-- reads a user's sessions in that order instead of sorting them.

-- +goose Up
CREATE INDEX audit_events_at ON audit_events (at);

CREATE INDEX sessions_user_id_created_at_id_idx ON sessions (user_id, created_at, id);
DROP INDEX sessions_user_id_created_at_idx;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND to_jsonb(NEW) = to_jsonb(OLD) || jsonb_build_object('ip', '', 'user_agent', '') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE'
        AND OLD.at < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint - 86400000000 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
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

DROP INDEX audit_events_at;

CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);
DROP INDEX sessions_user_id_created_at_id_idx;
