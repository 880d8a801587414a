-- Every denylist entry authd writes, recorded before the write: the store
-- is the source of truth the denylist is rebuilt from. The highest id is
-- the revocation generation a Redis marker is compared with. Rows are
-- purged once `until` has passed (the newest row is always kept, so the
-- generation never goes back).

-- +goose Up
CREATE TABLE revocations (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    subject    TEXT   NOT NULL DEFAULT '',
    value      TEXT   NOT NULL DEFAULT '',
    cutoff     BIGINT,
    until      BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX revocations_until_idx ON revocations (until, id);

-- +goose Down
DROP TABLE revocations;
