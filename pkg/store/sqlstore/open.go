package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // "postgres" driver.
	_ "modernc.org/sqlite" // "sqlite" driver.

	"github.com/authd/authd/pkg/store"
)

// Compile-time check that *Store implements the contract.
var _ store.Store = (*Store)(nil)

// Store is a store.Store backed by Postgres, MySQL/MariaDB or SQLite. It
// is safe for concurrent use. Create it with Open.
type Store struct {
	d dialect
	// w runs every write and every transaction. On SQLite it is a pool of
	// one connection, which serializes writers in Go.
	w *sqlx.DB
	// r runs plain reads. On Postgres and in-memory SQLite it is w; on
	// file SQLite a read-only pool that WAL lets read beside the writer.
	r *sqlx.DB
	// wq and rq prepare and keep the statements run on w and r.
	wq, rq *stmtCache

	log   *slog.Logger
	now   func() time.Time
	locks *keyLocks // SQLite's process-local advisory locks
	// lockPrefix starts MySQL's GET_LOCK names (mysqlLockPrefix).
	lockPrefix string

	uq userQueries
	sq sessionQueries
	kq keyQueries
	tq tokenQueries
	cq clientQueries
	aq adminQueries
	mq mfaQueries
}

// The schemes this package registers with store.Register; a binary that
// imports it (even blank) opens them with store.Open.
func init() {
	for _, scheme := range []string{"sqlite", "postgres", "postgresql", "mysql"} {
		store.Register(scheme, openBackend)
	}
}

func openBackend(ctx context.Context, dsn string, cfg store.OpenConfig) (store.Store, error) {
	return Open(ctx, dsn, WithLogger(cfg.Logger), WithClock(cfg.Now))
}

// Open connects to the database named by dsn and checks that it answers. It
// does not migrate: call Migrate.
//
// A dsn starting with postgres:// or postgresql:// selects Postgres and is
// passed to lib/pq as is. mysql://user:pass@host:port/db?params selects
// MySQL/MariaDB (see mysqlConfig for what Open sets and what the query
// may set). Anything else is SQLite: sqlite:PATH, sqlite://PATH, file:PATH
// (a SQLite URI) or a plain PATH, optionally followed by ?query parameters.
// Those are passed to modernc.org/sqlite after the defaults Open sets (WAL,
// synchronous=NORMAL, foreign_keys=ON, busy_timeout=5000, BEGIN IMMEDIATE
// for writes), so their _pragma values run last and win. ":memory:" gives a private in-memory
// database on a single connection.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var d dialect
	switch store.Scheme(dsn) {
	case "postgres", "postgresql":
		d = postgresDialect()
	case "mysql":
		d = mysqlDialect()
	default:
		d = sqliteDialect()
	}
	cfg, err := newConfig(d.networked(), opts)
	if err != nil {
		return nil, err
	}
	s := &Store{d: d, log: cfg.logger, now: cfg.now, locks: newKeyLocks()}
	switch {
	case d.postgres:
		err = s.openPostgres(ctx, dsn, cfg)
	case d.mysql:
		err = s.openMySQL(ctx, dsn, cfg)
	default:
		err = s.openSQLite(ctx, dsn, cfg)
	}
	if err != nil {
		return nil, err
	}
	s.wq = newStmtCache(s.w)
	s.rq = s.wq
	if s.r != s.w {
		s.rq = newStmtCache(s.r)
	}
	s.uq = newUserQueries(s.d)
	s.sq = newSessionQueries(s.d)
	s.kq = newKeyQueries(s.d)
	s.tq = newTokenQueries(s.d)
	s.cq = newClientQueries(s.d)
	s.aq = newAdminQueries(s.d)
	s.mq = newMFAQueries(s.d)
	return s, nil
}

// DefaultPostgresConnectTimeout bounds how long opening a Postgres
// connection may take unless the DSN's connect_timeout (or
// PGCONNECT_TIMEOUT) says otherwise. lib/pq waits forever by default, so a
// server that accepts TCP but never answers (a network partition, a hung
// pooler) would hold every request that needs a new connection.
const DefaultPostgresConnectTimeout = 5 * time.Second

// withConnectTimeout adds DefaultPostgresConnectTimeout to a URL DSN that
// sets no connect timeout of its own.
func withConnectTimeout(dsn string) string {
	if os.Getenv("PGCONNECT_TIMEOUT") != "" {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Query().Has("connect_timeout") {
		return dsn // a parse error is lib/pq's to report
	}
	q := u.Query()
	q.Set("connect_timeout", strconv.Itoa(int(DefaultPostgresConnectTimeout/time.Second)))
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Store) openPostgres(ctx context.Context, dsn string, cfg config) error {
	db, err := sqlx.Open("postgres", withConnectTimeout(dsn))
	if err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	sizePool(db, cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("sqlstore: ping postgres: %w", redactURLError(err))
	}
	s.w, s.r = db, db
	return nil
}

// sizePool sizes a server's pool (Postgres, MySQL) the same way.
func sizePool(db *sqlx.DB, cfg config) {
	db.SetMaxOpenConns(cfg.maxOpenConns)
	// database/sql keeps only 2 idle connections by default; under load the
	// rest would be closed and redialled on every burst.
	db.SetMaxIdleConns(cfg.maxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Recycle connections now and then so that a pool rebalances after a
	// failover or a pooler restart.
	db.SetConnMaxLifetime(time.Hour)
}

// redactURLError drops the URL (which may hold a password) from a parse
// error.
func redactURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func (s *Store) openSQLite(ctx context.Context, dsn string, cfg config) error {
	name, query := sqliteName(dsn)
	busy := fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())
	if isMemory(name, query) {
		// Every connection to :memory: is its own database: use one.
		db, err := openSQLitePool(ctx, name, joinQuery(busy+"&_pragma=foreign_keys(1)&_txlock=immediate", query), 1)
		if err != nil {
			return err
		}
		s.w, s.r = db, db
		return nil
	}
	path := sqlitePath(name)
	if path != "" {
		restrictSQLiteFiles(ctx, s.log, path)
	}
	// The writer opens first so that WAL is on before any reader connects.
	// synchronous(NORMAL) in WAL mode syncs at checkpoints, not at every
	// commit: a crash of authd loses nothing, a power loss can lose the
	// last commits (a refresh rotation, a logout). The fsync per commit it
	// saves is most of an embedded refresh's cost (figures in
	// docs/benchmarks.md); a deployment that cannot accept the loss sets
	// _pragma=synchronous(FULL).
	w, err := openSQLitePool(ctx, name, joinQuery(busy+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate", query), 1)
	if err != nil {
		return err
	}
	if path != "" {
		// SQLite created -wal and -shm with the database's mode; make sure.
		chmodSQLiteFiles(ctx, s.log, path)
	}
	r, err := openSQLitePool(ctx, name, joinQuery(busy+"&_pragma=query_only(1)", query), cfg.maxOpenConns)
	if err != nil {
		w.Close()
		return err
	}
	s.w, s.r = w, r
	return nil
}

func openSQLitePool(ctx context.Context, name, query string, conns int) (*sqlx.DB, error) {
	db, err := sqlx.Open("sqlite", name+"?"+query)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", name, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	// An idle SQLite connection costs only memory, and closing one of an
	// in-memory database would destroy it.
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", name, err)
	}
	return db, nil
}

// sqliteName splits a SQLite DSN into the name modernc.org/sqlite opens and
// its query string. sqlite:// and sqlite: are ours and are removed; file: is a SQLite URI
// and is kept.
func sqliteName(dsn string) (name, query string) {
	if rest, ok := strings.CutPrefix(dsn, "sqlite://"); ok {
		dsn = rest
	} else {
		dsn = strings.TrimPrefix(dsn, "sqlite:")
	}
	name, query, _ = strings.Cut(dsn, "?")
	return name, query
}

func isMemory(name, query string) bool {
	return strings.Contains(name, ":memory:") || strings.Contains(query, "mode=memory")
}

// joinQuery puts the user's parameters after ours so that theirs win.
func joinQuery(ours, theirs string) string {
	if theirs == "" {
		return ours
	}
	return ours + "&" + theirs
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", classify(err))
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping readers: %w", classify(err))
		}
	}
	return nil
}

// Close closes the prepared statements and the connection pools.
func (s *Store) Close() error {
	errs := []error{s.wq.close()}
	if s.r != s.w {
		errs = append(errs, s.rq.close(), s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}
