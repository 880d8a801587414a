package sqlstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults for the connection pools.
const (
	// DefaultPostgresMaxOpenConns is the Postgres (and MySQL) pool size unless
	// WithMaxOpenConns says otherwise.
	DefaultPostgresMaxOpenConns = 16
	// DefaultSQLiteReaders is the size of the SQLite read-only pool unless
	// WithMaxOpenConns says otherwise. Writes always use one connection.
	DefaultSQLiteReaders = 4
	// sqliteBusyTimeout is how long a SQLite connection waits for a lock
	// held by another process before failing with SQLITE_BUSY.
	sqliteBusyTimeout = 5 * time.Second
)

// Option configures Open.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	maxOpenConns int
	now          func() time.Time
}

// WithLogger sets the logger for migrations and lock housekeeping. The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithMaxOpenConns sets the size of the Postgres or MySQL connection pool (default
// DefaultPostgresMaxOpenConns, at least 2: WithAdvisoryLock and Migrate hold
// one connection for the lock while the work uses another) or of the SQLite
// read-only pool (default DefaultSQLiteReaders). SQLite writes always use a
// single connection.
func WithMaxOpenConns(n int) Option {
	return func(c *config) { c.maxOpenConns = n }
}

// WithClock sets the clock used for the times the store fills in itself
// (CreatedAt/UpdatedAt of a user, CreatedAt of a signing key). Every other
// time comes from the caller. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

func newConfig(networked bool, opts []Option) (config, error) {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	var errs []error
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		errs = append(errs, errors.New("WithClock: nil clock"))
	}
	switch {
	case c.maxOpenConns < 0:
		errs = append(errs, fmt.Errorf("WithMaxOpenConns: %d is negative", c.maxOpenConns))
	case c.maxOpenConns == 0 && networked:
		c.maxOpenConns = DefaultPostgresMaxOpenConns
	case c.maxOpenConns == 0:
		c.maxOpenConns = DefaultSQLiteReaders
	case c.maxOpenConns == 1 && networked:
		errs = append(errs, errors.New("WithMaxOpenConns: Postgres and MySQL need at least 2 connections (advisory locks hold one)"))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("sqlstore: invalid options: %w", errors.Join(errs...))
	}
	return c, nil
}
