package limits

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver authd uses

	"github.com/authd/authd/pkg/store/sqlstore"
)

// RotationConns is the connection count for the rotation bound.
const RotationConns = 16

// Rotation is the refresh bound: the rate of the textbook rotation
// transaction on the same Postgres (or MySQL/MariaDB).
type Rotation struct {
	Conns   int           `json:"conns"`
	Tx      int64         `json:"transactions"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Rate returns committed transactions per second.
func (r Rotation) Rate() float64 { return perSecond(float64(r.Tx), r.Elapsed) }

// Basis describes the bound for a report.
func (r Rotation) Basis() string {
	return fmt.Sprintf("bare rotation tx on %d conns", r.Conns)
}

// MeasureRotation creates a scratch schema on the Postgres of dsn (a
// scratch database when dsn is a mysql:// URL of MySQL/MariaDB; a
// sessions table shaped like authd's, with its index, and a refresh-token
// ledger), runs conns goroutines, each on its own connection and its own
// session row, repeating with prepared statements
//
//	BEGIN
//	SELECT refresh_jti, revoked_at, expires_at FROM sessions WHERE id = $1 FOR UPDATE
//	UPDATE sessions SET prev_refresh_jti = refresh_jti, refresh_jti = $1, ... WHERE id = $n
//	INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES (...)
//	COMMIT
//
// for d (after a warm-up of a tenth of it, at most a second) or maxTx
// transactions (0: no count bound), and drops the schema, also when
// interrupted.
func MeasureRotation(ctx context.Context, dsn string, conns int, d time.Duration, maxTx int64) (res Rotation, err error) {
	if conns < 1 || conns > 1000 {
		return Rotation{}, fmt.Errorf("rotation bound: %d connections: want 1 to 1000", conns)
	}
	if d <= 0 {
		return Rotation{}, fmt.Errorf("rotation bound: duration %s must be positive", d)
	}
	mysqlURL := strings.HasPrefix(dsn, "mysql://")
	driver, text, bind := "postgres", "text", sqlx.DOLLAR
	scratch, drop, tableOpts := "CREATE SCHEMA ", " CASCADE", ""
	if mysqlURL {
		// MySQL/MariaDB: a scratch database, InnoDB tables shaped like
		// authd's migrations/mysql (VARCHAR keys, utf8mb4_bin).
		if dsn, err = sqlstore.MySQLDriverDSN(dsn); err != nil {
			return Rotation{}, fmt.Errorf("rotation bound: %w", err)
		}
		driver, text, bind = "mysql", "VARCHAR(255)", sqlx.QUESTION
		scratch, drop, tableOpts = "CREATE DATABASE ", "", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "authbench_" + hex.EncodeToString(b)
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(setupCtx, scratch+schema); err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: create schema: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, derr := db.ExecContext(dctx, "DROP "+strings.TrimPrefix(strings.TrimSpace(scratch), "CREATE ")+" "+schema+drop); derr != nil {
			err = errors.Join(err, fmt.Errorf("rotation bound: drop schema %s: %w", schema, derr))
		}
	}()
	for _, q := range []string{
		`CREATE TABLE ` + schema + `.sessions (
			id ` + text + ` PRIMARY KEY, user_id ` + text + ` NOT NULL, client_id ` + text + ` NOT NULL DEFAULT '',
			user_agent ` + text + ` NOT NULL DEFAULT '', ip ` + text + ` NOT NULL DEFAULT '',
			refresh_jti ` + text + ` NOT NULL, refresh_issued_at bigint NOT NULL, expires_at bigint NOT NULL,
			prev_refresh_jti ` + text + `, rotated_at bigint, created_at bigint NOT NULL,
			last_refreshed_at bigint NOT NULL, revoked_at bigint)` + tableOpts,
		`CREATE INDEX sessions_user_id_created_at_idx ON ` + schema + `.sessions (user_id, created_at)`,
		`CREATE TABLE ` + schema + `.refresh_tokens (
			jti ` + text + ` PRIMARY KEY, session_id ` + text + ` NOT NULL, issued_at bigint NOT NULL,
			expires_at bigint NOT NULL, used_at bigint)` + tableOpts,
	} {
		if _, err := db.ExecContext(setupCtx, q); err != nil {
			return Rotation{}, fmt.Errorf("rotation bound: create tables: %w", err)
		}
	}
	now := time.Now().UnixMicro()
	exp := now + (720 * time.Hour).Microseconds()
	for i := range conns {
		if _, err := db.ExecContext(setupCtx, sqlx.Rebind(bind, `INSERT INTO `+schema+`.sessions
			(id, user_id, refresh_jti, refresh_issued_at, expires_at, created_at, last_refreshed_at)
			VALUES (?, 'u', ?, ?, ?, ?, ?)`), sid(i), sid(i)+"-0", now, exp, now, now); err != nil {
			return Rotation{}, fmt.Errorf("rotation bound: insert session: %w", err)
		}
	}
	prepare := func(q string) (*sql.Stmt, error) { return db.PrepareContext(setupCtx, sqlx.Rebind(bind, q)) }
	lock, err := prepare(`SELECT refresh_jti, revoked_at, expires_at FROM ` + schema + `.sessions WHERE id = ? FOR UPDATE`)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: prepare: %w", err)
	}
	defer lock.Close()
	update, err := prepare(`UPDATE ` + schema + `.sessions SET prev_refresh_jti = refresh_jti, refresh_jti = ?,
		refresh_issued_at = ?, expires_at = ?, rotated_at = ?, last_refreshed_at = ? WHERE id = ?`)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: prepare: %w", err)
	}
	defer update.Close()
	ledger, err := prepare(`INSERT INTO ` + schema + `.refresh_tokens (jti, session_id, issued_at, expires_at)
		VALUES (?, ?, ?, ?)`)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: prepare: %w", err)
	}
	defer ledger.Close()

	rotate := func(ctx context.Context, id, presented, next string) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		var cur string
		var revoked sql.NullInt64
		var expires int64
		if err := tx.StmtContext(ctx, lock).QueryRowContext(ctx, id).Scan(&cur, &revoked, &expires); err != nil {
			return err
		}
		if cur != presented || revoked.Valid || expires <= now {
			return fmt.Errorf("session %s: unexpected state %q", id, cur)
		}
		if _, err := tx.StmtContext(ctx, update).ExecContext(ctx, next, now, exp, now, now, id); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, ledger).ExecContext(ctx, next, id, now, exp); err != nil {
			return err
		}
		return tx.Commit()
	}

	// Every goroutine keeps its chain across warm-up and measurement.
	cur := make([]string, conns)
	seq := make([]int, conns)
	for i := range conns {
		cur[i] = sid(i) + "-0"
	}
	run := func(d time.Duration, maxTx int64) (int64, time.Duration, error) {
		var n atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for i := range conns {
			wg.Go(func() {
				for ctx.Err() == nil && time.Now().Before(deadline) {
					if maxTx > 0 && n.Load() >= maxTx {
						return
					}
					seq[i]++
					next := sid(i) + "-" + strconv.Itoa(seq[i])
					if err := rotate(ctx, sid(i), cur[i], next); err != nil {
						if ctx.Err() == nil {
							once.Do(func() { firstErr = err })
						}
						return
					}
					cur[i] = next
					n.Add(1)
				}
			})
		}
		wg.Wait()
		if firstErr == nil {
			firstErr = ctx.Err()
		}
		return n.Load(), time.Since(start), firstErr
	}
	if _, _, err := run(min(d/10, time.Second), 0); err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: warm-up: %w", err)
	}
	n, elapsed, err := run(d, maxTx)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotation bound: %w", err)
	}
	return Rotation{Conns: conns, Tx: n, Elapsed: elapsed}, nil
}

func sid(i int) string { return "s" + strconv.Itoa(i) }
