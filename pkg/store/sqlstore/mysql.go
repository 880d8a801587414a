package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// DefaultMySQLConnectTimeout bounds how long dialling MySQL may take unless
// the URL's timeout parameter says otherwise (the driver's default is the
// operating system's, minutes), for the reason DefaultPostgresConnectTimeout
// gives.
const DefaultMySQLConnectTimeout = 5 * time.Second

// mysqlGroupConcatMax is the session's group_concat_max_len: the roles
// expression concatenates a user's roles, and the server's default (1024
// bytes) would cut a long list short.
const mysqlGroupConcatMax = "1048576"

// mysqlConfig turns mysql://user:pass@host[:port]/db?params into the
// driver's configuration. The query's parameters are the driver's own
// (tls=true|skip-verify|preferred, timeout, readTimeout, ...). Open then
// sets what the store's code relies on, whatever the URL said:
//   - parseTime off and loc UTC: times are BIGINT microseconds, never
//     DATETIME, so nothing is parsed or shifted by a time zone;
//   - clientFoundRows: "rows affected" counts the rows a WHERE matched, as
//     on the other dialects, not only those whose values changed;
//   - multiStatements off: one statement per call (goose needs no more);
//   - charset utf8mb4 unless the URL names one.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql URL: %w", redactURLError(err))
	}
	if u.Scheme != "mysql" || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("sqlstore: mysql URL: want mysql://user:password@host:port/database")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, errors.New("sqlstore: mysql URL: name one database in the path, e.g. mysql://authd@db:3306/authd")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = db
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	q := u.Query()
	if !q.Has("charset") {
		q.Set("charset", "utf8mb4")
	}
	if !q.Has("timeout") {
		q.Set("timeout", DefaultMySQLConnectTimeout.String())
	}
	if !q.Has("group_concat_max_len") {
		q.Set("group_concat_max_len", mysqlGroupConcatMax)
	}
	// The driver parses its own parameters: round-trip them through its DSN
	// form, which also validates them. The user name and password stay out
	// of that string, so that no error can echo them.
	parsed, err := mysql.ParseDSN("tcp(" + cfg.Addr + ")/" + cfg.DBName + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql URL parameters: %w", err)
	}
	parsed.User, parsed.Passwd = cfg.User, cfg.Passwd
	parsed.ParseTime = false
	parsed.Loc = time.UTC
	parsed.ClientFoundRows = true
	parsed.MultiStatements = false
	return parsed, nil
}

// MySQLDriverDSN is the go-sql-driver/mysql DSN Open uses for a mysql://
// URL, for tools that open the same database with database/sql directly.
func MySQLDriverDSN(mysqlURL string) (string, error) {
	cfg, err := mysqlConfig(mysqlURL)
	if err != nil {
		return "", err
	}
	return cfg.FormatDSN(), nil
}

func (s *Store) openMySQL(ctx context.Context, dsn string, cfg config) error {
	mc, err := mysqlConfig(dsn)
	if err != nil {
		return err
	}
	mc.Logger = mysqlLogger{s.log}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return fmt.Errorf("sqlstore: open mysql: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(boundedConnector{conn, mc.Timeout}), "mysql")
	sizePool(db, cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("sqlstore: ping mysql: %w", err)
	}
	s.w, s.r = db, db
	s.lockPrefix = mysqlLockPrefix(mc.DBName)
	return nil
}

// boundedConnector bounds a whole new connection (dial, handshake,
// authentication, session variables) by timeout. The driver's own timeout
// covers the dial only, so a server that accepts TCP but never greets (a
// partition, a hung proxy) would hold the caller until its own deadline.
type boundedConnector struct {
	driver.Connector
	timeout time.Duration
}

func (c boundedConnector) Connect(parent context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	conn, err := c.Connector.Connect(ctx)
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		// The connect deadline, not the caller's: a connection-level
		// failure (classify), whatever the driver reported.
		err = fmt.Errorf("connect: %w: %w", context.DeadlineExceeded, err)
	}
	return conn, err
}

// mysqlLogger sends the driver's own messages (a bad idle connection
// closed, a lost packet) to the store's logger at debug level instead of
// the driver's default, standard error.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) { l.log.Debug("mysql driver: " + fmt.Sprint(v...)) }

// mysqlLockPrefix starts every GET_LOCK name of this database. Named locks
// are per server, not per database, so the name carries the database; it
// is hashed because a name is at most 64 characters.
func mysqlLockPrefix(db string) string {
	h := fnv.New64a()
	h.Write([]byte(db))
	return "authd/" + hex.EncodeToString(h.Sum(nil)) + "/"
}

// mysqlLockWait is how long one GET_LOCK call waits before it is asked
// again; ctx cancels a wait at once (the driver closes the connection,
// which releases whatever it held).
const mysqlLockWait = 2

// mysqlAdvisoryLock is WithAdvisoryLock on MySQL: GET_LOCK on a connection
// held for the duration, exclusive across every replica using the same
// database, released by RELEASE_LOCK (or by discarding the connection).
func (s *Store) mysqlAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	h := fnv.New64a()
	h.Write([]byte(key))
	name := s.lockPrefix + hex.EncodeToString(h.Sum(nil))
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: lock %q: %w", key, classify(err))
	}
	for {
		var got sql.NullInt64
		err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, name, mysqlLockWait).Scan(&got)
		if err == nil && !got.Valid {
			err = errors.New("GET_LOCK failed")
		}
		if err != nil {
			discard(conn.Raw)
			conn.Close()
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("sqlstore: lock %q: %w", key, classify(err))
		}
		if got.Int64 == 1 {
			break
		}
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		var released sql.NullInt64
		if uerr := conn.QueryRowContext(uctx, `SELECT RELEASE_LOCK(?)`, name).Scan(&released); uerr != nil || released.Int64 != 1 {
			s.log.Warn("advisory unlock failed; discarding connection", "key", key, "err", uerr)
			discard(conn.Raw)
		}
		conn.Close()
	}()
	return fn(ctx)
}
