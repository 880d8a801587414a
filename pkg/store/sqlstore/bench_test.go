package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// benchConns is the concurrency of the rotation benchmarks: the default
// Postgres pool size, one goroutine per connection.
const benchConns = sqlstore.DefaultPostgresMaxOpenConns

var benchNow = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// runChains runs rotate in benchConns goroutines (or more), each on its own
// session, each call presenting the jti of the previous one: the steady
// state of clients refreshing.
func runChains(b *testing.B, setup func(sid string), rotate func(ctx context.Context, sid, presented, next string) error) {
	procs := runtime.GOMAXPROCS(0)
	par := (benchConns + procs - 1) / procs
	for i := range par * procs {
		setup(fmt.Sprintf("s%d", i))
	}
	b.SetParallelism(par)
	var next atomic.Int64
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		sid := fmt.Sprintf("s%d", next.Add(1)-1)
		cur := sid + "-0"
		for n := 1; pb.Next(); n++ {
			nj := fmt.Sprintf("%s-%d", sid, n)
			if err := rotate(ctx, sid, cur, nj); err != nil {
				b.Error(err)
				return
			}
			cur = nj
		}
	})
}

func benchRotateRefresh(b *testing.B, s *sqlstore.Store) {
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com", PasswordHash: "h", Roles: []string{"admin", "user"}}); err != nil {
		b.Fatal(err)
	}
	runChains(b, func(sid string) {
		if _, err := s.CreateSession(ctx, store.NewSession{ID: sid, UserID: "u", ClientID: "web", RefreshJTI: sid + "-0",
			RefreshIssuedAt: benchNow, ExpiresAt: benchNow.Add(720 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}, func(ctx context.Context, sid, presented, next string) error {
		_, err := s.RotateRefresh(ctx, store.Rotation{SessionID: sid, PresentedJTI: presented, NewJTI: next,
			NewIssuedAt: benchNow, NewExpiresAt: benchNow.Add(720 * time.Hour), Grace: 10 * time.Second,
			Now: benchNow, UserAgent: "bench", IP: "192.0.2.1"})
		return err
	})
}

// BenchmarkRotateRefreshPostgres measures RotateRefresh on Postgres with
// benchConns concurrent refresh chains.
func BenchmarkRotateRefreshPostgres(b *testing.B) {
	benchRotateRefresh(b, openMigrated(b, testenv.Postgres(b)))
}

// BenchmarkRotateRefreshSQLite measures RotateRefresh on a SQLite file with
// benchConns concurrent refresh chains (which its single writer serializes).
func BenchmarkRotateRefreshMySQL(b *testing.B) {
	benchRotateRefresh(b, openMigrated(b, testenv.MySQL(b)))
}

func BenchmarkRotateRefreshSQLite(b *testing.B) {
	benchRotateRefresh(b, openMigrated(b, "sqlite://"+filepath.Join(b.TempDir(), "bench.db")))
}

// BenchmarkBareRotationTxPostgres is the reference RotateRefresh is compared
// with: the textbook rotation transaction, written by hand on database/sql
// with benchConns connections and, like the store, prepared statements:
//
//	BEGIN
//	SELECT refresh_jti, revoked_at, expires_at FROM sessions WHERE id = $1 FOR UPDATE
//	UPDATE sessions SET prev_refresh_jti = refresh_jti, refresh_jti = $new, ... WHERE id = $1
//	INSERT INTO bench_refresh_tokens ... ON CONFLICT (jti) DO UPDATE ...   -- the token ledger
//	COMMIT
//
// Five round trips, no user or roles read. bench_refresh_tokens exists only
// in the benchmark's schema; it stands for the per-token table such a design
// keeps.
func BenchmarkBareRotationTxPostgres(b *testing.B) {
	dsn := testenv.Postgres(b)
	s := openMigrated(b, dsn) // for the schema and the fixtures
	ctx := context.Background()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(benchConns)
	db.SetMaxIdleConns(benchConns)
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_refresh_tokens (
		jti text PRIMARY KEY, session_id text NOT NULL, issued_at bigint NOT NULL,
		expires_at bigint NOT NULL, used_at bigint)`); err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	prepare := func(q string) *sql.Stmt {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	lock := prepare(`SELECT refresh_jti, revoked_at, expires_at FROM sessions WHERE id = $1 FOR UPDATE`)
	update := prepare(`UPDATE sessions SET prev_refresh_jti = refresh_jti, refresh_jti = $1,
		refresh_issued_at = $2, expires_at = $3, rotated_at = $2, last_refreshed_at = $2 WHERE id = $4`)
	ledger := prepare(`INSERT INTO bench_refresh_tokens (jti, session_id, issued_at, expires_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO UPDATE SET used_at = EXCLUDED.issued_at`)
	now, exp := benchNow.UnixMicro(), benchNow.Add(720*time.Hour).UnixMicro()
	runChains(b, func(sid string) {
		if _, err := s.CreateSession(ctx, store.NewSession{ID: sid, UserID: "u", RefreshJTI: sid + "-0",
			RefreshIssuedAt: benchNow, ExpiresAt: benchNow.Add(720 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}, func(ctx context.Context, sid, presented, next string) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var cur string
		var revoked sql.NullInt64
		var expires int64
		if err := tx.StmtContext(ctx, lock).QueryRowContext(ctx, sid).Scan(&cur, &revoked, &expires); err != nil {
			return err
		}
		if cur != presented || revoked.Valid || expires <= now {
			return fmt.Errorf("session %s: unexpected state %s/%v/%d", sid, cur, revoked, expires)
		}
		if _, err := tx.StmtContext(ctx, update).ExecContext(ctx, next, now, exp, sid); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, ledger).ExecContext(ctx, next, sid, now, exp); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// benchCreateSession measures logins' store step: CreateSession of user u
// (which also moves u's last_login_at), one at a time, or from benchConns
// goroutines at once against the same user (whose row they all update).
func benchCreateSession(b *testing.B, s *sqlstore.Store, parallel bool) {
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	login := func() error {
		i := n.Add(1)
		at := benchNow.Add(time.Duration(i) * time.Microsecond)
		_, err := s.CreateSession(ctx, store.NewSession{ID: fmt.Sprintf("s%d", i), UserID: "u", ClientID: "web",
			RefreshJTI: fmt.Sprintf("j%d", i), RefreshIssuedAt: at, ExpiresAt: at.Add(720 * time.Hour)})
		return err
	}
	if !parallel {
		for b.Loop() {
			if err := login(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchConns + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := login(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateSessionPostgres measures CreateSession on Postgres, serial
// (the round trip of one login) and parallel (logins of one user, which
// queue on its row lock).
func BenchmarkCreateSessionPostgres(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(map[bool]string{false: "serial", true: "parallel"}[parallel], func(b *testing.B) {
			benchCreateSession(b, openMigrated(b, testenv.Postgres(b)), parallel)
		})
	}
}

// BenchmarkCreateSessionSQLite measures CreateSession on a SQLite file.
func BenchmarkCreateSessionSQLite(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(map[bool]string{false: "serial", true: "parallel"}[parallel], func(b *testing.B) {
			benchCreateSession(b, openMigrated(b, "sqlite://"+filepath.Join(b.TempDir(), "bench.db")), parallel)
		})
	}
}
