-- Every denylist entry authd writes (see the Postgres migration).
-- AUTOINCREMENT: ids are never reused, so the generation never goes back.

-- +goose Up
CREATE TABLE revocations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    value      TEXT    NOT NULL DEFAULT '',
    cutoff     INTEGER,
    until      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revocations_until_idx ON revocations (until, id);

-- +goose Down
DROP TABLE revocations;
