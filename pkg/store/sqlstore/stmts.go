package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Every query of the store runs as a prepared statement, prepared on first
// use and then reused: database/sql prepares it once per connection, and
// each later call is one round trip (Bind/Execute) that also skips parsing
// and planning.
//
// We chose this over lib/pq's binary_parameters=yes, which also sends an
// unprepared statement in one round trip (instead of lib/pq's default two)
// but still has Postgres parse and plan it on every call. Planning the
// rotation statement costs about as much server CPU as running it
// (EXPLAIN ANALYZE), and under concurrent refreshes the server's CPU is the
// limit, so preparing roughly doubles refresh throughput
// (BenchmarkRotateRefreshPostgres; figures in docs/benchmarks.md).
// binary_parameters remains the DSN's business.
//
// Statements are prepared lazily, not at Open, because Open does not
// migrate: the tables may not exist yet. A failed prepare is not cached, so
// the next call tries again. Every query names its columns, so a later
// migration that adds columns does not change a cached statement's result
// type. Behind PgBouncer in transaction mode, use a version with
// max_prepared_statements (1.21+).

// runner is where a query runs: a pool or a transaction.
type runner interface {
	stmt(ctx context.Context, query string) (*sqlx.Stmt, error)
}

// stmtCache is a pool with its prepared statements, keyed by query text.
type stmtCache struct {
	db *sqlx.DB
	m  sync.Map // string -> *sqlx.Stmt
}

func newStmtCache(db *sqlx.DB) *stmtCache { return &stmtCache{db: db} }

func (c *stmtCache) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := c.cached(query); ok {
		return st, nil
	}
	st, err := c.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close() // another goroutine prepared it first
		return v.(*sqlx.Stmt), nil
	}
	return st, nil
}

// cached returns the statement for query if it was prepared already.
func (c *stmtCache) cached(query string) (*sqlx.Stmt, bool) {
	v, ok := c.m.Load(query)
	if !ok {
		return nil, false
	}
	return v.(*sqlx.Stmt), true
}

// warm prepares queries in the pool so that later transactions find them.
// Errors are dropped: the query will fail again, and be reported, when it
// is next run.
func (c *stmtCache) warm(ctx context.Context, queries []string) {
	for _, q := range queries {
		_, _ = c.stmt(ctx, q)
	}
}

// close closes the cached statements (not the pool).
func (c *stmtCache) close() error {
	var errs []error
	c.m.Range(func(k, v any) bool {
		errs = append(errs, v.(*sqlx.Stmt).Close())
		c.m.Delete(k)
		return true
	})
	return errors.Join(errs...)
}

// txRunner runs the pool's prepared statements inside tx; database/sql
// reuses the statement already prepared on the transaction's connection or
// prepares it there.
//
// A query the pool has not prepared yet is prepared on the transaction
// alone and noted in missed, for inTx to warm the pool once the transaction
// is over. Preparing it in the pool here would need a second connection
// while the transaction holds one: a deadlock on SQLite's single writer,
// and on Postgres whenever every pooled connection is in a transaction.
type txRunner struct {
	tx     *sqlx.Tx
	cache  *stmtCache
	missed *[]string
}

func (t txRunner) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := t.cache.cached(query); ok {
		return t.tx.StmtxContext(ctx, st), nil
	}
	*t.missed = append(*t.missed, query)
	return t.tx.PreparexContext(ctx, query)
}

// get, selectAll and exec are how every query runs, so that a connection
// failure is store.ErrUnavailable whichever call met it (classify).

// get scans the one row of query into dest (sql.ErrNoRows when none).
func get(ctx context.Context, r runner, dest any, query string, args ...any) error {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return classify(err)
	}
	return classify(st.GetContext(ctx, dest, args...))
}

// selectAll scans every row of query into the slice dest points to.
func selectAll(ctx context.Context, r runner, dest any, query string, args ...any) error {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return classify(err)
	}
	return classify(st.SelectContext(ctx, dest, args...))
}

// exec runs a statement that returns no rows.
func exec(ctx context.Context, r runner, query string, args ...any) (sql.Result, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, classify(err)
	}
	res, err := st.ExecContext(ctx, args...)
	return res, classify(err)
}
