-- Append-only audit trail (see the Postgres migration for why). Triggers
-- refuse UPDATE and DELETE with SIGNAL SQLSTATE '45000'; retention is an
-- operator's job (TRUNCATE, which fires no trigger, by a privileged user).
-- Creating a trigger with binary logging on needs the TRIGGER privilege and
-- SUPER or log_bin_trust_function_creators=1.

-- +goose Up
CREATE TABLE audit_events (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at         BIGINT NOT NULL,
    type       VARCHAR(64) NOT NULL,
    outcome    VARCHAR(64) NOT NULL,
    user_id    VARCHAR(255) NOT NULL DEFAULT '',
    session_id VARCHAR(255) NOT NULL DEFAULT '',
    ip         VARCHAR(255) NOT NULL DEFAULT '',
    user_agent VARCHAR(2048) NOT NULL DEFAULT '',
    detail     VARCHAR(1024) NOT NULL DEFAULT '',
    KEY audit_events_user_id (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
BEGIN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
END
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW
BEGIN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';
END
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_events;
