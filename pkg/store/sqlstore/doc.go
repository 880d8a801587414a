// Package sqlstore is the SQL implementation of store.Store: one sqlx code
// base for Postgres (github.com/lib/pq), MySQL 8.0+ and MariaDB 10.6+
// (github.com/go-sql-driver/mysql) and SQLite (modernc.org/sqlite, pure
// Go, the embedded default). Importing it registers the schemes sqlite,
// postgres, postgresql and mysql with store.Register.
//
// Open picks the dialect from the DSN and connects; Migrate applies the
// embedded goose migrations of that dialect. Open never migrates, so that a
// deployment decides when the schema changes.
//
// # Encoding
//
// Every time is stored as a 64-bit integer of Unix microseconds (BIGINT on
// Postgres and MySQL, INTEGER on SQLite) and read back in UTC. One encoding
// for every dialect means one scanning path, exact round trips to the microsecond
// (times are truncated, never rounded, below it) and no dependence on the
// session time zone or on a driver's time parsing. A zero time.Time is
// stored as NULL where the column allows it ("not yet": revoked_at,
// rotated_at, retired_at, expires_at).
//
// # Concurrency
//
// On Postgres, RotateRefresh's common case is a single statement (a
// data-modifying CTE that rotates and returns the owner with roles); row
// locks serialize concurrent rotations of one session. CreateSession is one
// statement too (a CTE that sets the user's last_login_at under the
// credential-version guard and inserts the session from the row it
// returns), so a login costs one round trip. On SQLite all writes
// go through one connection (a pool of one, transactions BEGIN IMMEDIATE),
// so writers queue in Go instead of failing with SQLITE_BUSY, while reads
// use a separate read-only pool that WAL lets run beside the writer. On
// MySQL, which has neither UPDATE ... RETURNING nor data-modifying CTEs,
// RotateRefresh is one transaction that locks the session row (SELECT ...
// FOR UPDATE) and applies store.DecideRotation, and a write that returns
// its row reads it back in its transaction.
//
// This package is not where authentication policy lives: it does not hash
// passwords, refuse disabled users or decide token lifetimes.
package sqlstore
