package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// storeCalls are calls that each need the database, named for failures.
func storeCalls(s *sqlstore.Store, now time.Time) []struct {
	name string
	call func(ctx context.Context) error
} {
	return []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, "a@example.com"); return err }},
		{"CreateUser", func(ctx context.Context) error {
			_, err := s.CreateUser(ctx, store.User{ID: "b", Email: "b@example.com", PasswordHash: "h"})
			return err
		}},
		{"CreateSession", func(ctx context.Context) error {
			_, err := s.CreateSession(ctx, store.NewSession{ID: "s2", UserID: "a", RefreshJTI: "j2", RefreshIssuedAt: now, ExpiresAt: now.Add(time.Hour)})
			return err
		}},
		{"RotateRefresh", func(ctx context.Context) error {
			_, err := s.RotateRefresh(ctx, store.Rotation{SessionID: "s1", PresentedJTI: "j1", NewJTI: "j1b",
				NewIssuedAt: now, NewExpiresAt: now.Add(time.Hour), Now: now})
			return err
		}},
		{"RevokeUserSessions", func(ctx context.Context) error { _, err := s.RevokeUserSessions(ctx, "a", "", now); return err }},
		{"ListSessions", func(ctx context.Context) error { _, err := s.ListSessions(ctx, "a", now); return err }},
		{"ClientByID", func(ctx context.Context) error { _, err := s.ClientByID(ctx, "c1"); return err }},
		{"TouchClient", func(ctx context.Context) error { return s.TouchClient(ctx, "c1", now) }},
		{"ListUsers", func(ctx context.Context) error { _, err := s.ListUsers(ctx, store.UserQuery{Limit: 10}); return err }},
		{"AuditEvents", func(ctx context.Context) error {
			_, err := s.AuditEvents(ctx, store.AuditQuery{Limit: 10, UserID: "a"})
			return err
		}},
		{"Ping", s.Ping},
	}
}

// seed creates user a with session s1 (current jti j1), and client c1.
func seed(t *testing.T, s *sqlstore.Store, now time.Time) {
	t.Helper()
	ctx := testCtx(t)
	if _, err := s.CreateUser(ctx, store.User{ID: "a", Email: "a@example.com", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, store.NewSession{ID: "s1", UserID: "a", RefreshJTI: "j1", RefreshIssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, store.Client{ID: "c1", SecretHash: []byte("digest")}); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresUnavailable takes Postgres away behind a proxy: every call
// fails fast with store.ErrUnavailable (the driver's error still in the
// chain), and works again once it is back, on the same Store.
func TestPostgresUnavailable(t *testing.T) {
	dsn, proxy := testenv.ProxyDSN(t, testenv.Postgres(t))
	s := openMigrated(t, dsn)
	now := time.Now()
	seed(t, s, now)

	proxy.Cut()
	for _, c := range storeCalls(s, now) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with Postgres cut: %v, want store.ErrUnavailable", c.name, err)
		}
	}

	proxy.Restore()
	for _, c := range storeCalls(s, now) {
		if err := c.call(testCtx(t)); err != nil {
			t.Errorf("%s after Postgres is back: %v", c.name, err)
		}
	}
}

// TestPostgresUnansweredIsUnavailable puts a server that accepts
// connections but never answers between the store and Postgres: a call
// that needs a new connection fails with store.ErrUnavailable within the
// default connect timeout instead of waiting for the caller's deadline.
func TestPostgresUnansweredIsUnavailable(t *testing.T) {
	dsn, proxy := testenv.ProxyDSN(t, testenv.Postgres(t))
	s := openMigrated(t, dsn)
	seed(t, s, time.Now())

	proxy.Blackhole()
	// lib/pq alone ignores the context while it opens a connection, so
	// the call runs apart and the test gives up on it rather than hang.
	ctx, cancel := context.WithTimeout(context.Background(), 4*sqlstore.DefaultPostgresConnectTimeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := s.UserByEmail(ctx, "a@example.com"); done <- err }()
	select {
	case err := <-done:
		took := time.Since(start)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("UserByEmail with Postgres not answering: %v, want store.ErrUnavailable", err)
		}
		if ctx.Err() != nil || took > 2*sqlstore.DefaultPostgresConnectTimeout {
			t.Fatalf("took %v (context: %v), want about the connect timeout %v", took, ctx.Err(), sqlstore.DefaultPostgresConnectTimeout)
		}
	case <-time.After(5 * sqlstore.DefaultPostgresConnectTimeout):
		t.Fatalf("UserByEmail still waiting after %v with Postgres not answering", 5*sqlstore.DefaultPostgresConnectTimeout)
	}
	proxy.Restore()
	if _, err := s.UserByEmail(testCtx(t), "a@example.com"); err != nil {
		t.Fatalf("UserByEmail once Postgres answers again: %v", err)
	}
}

// TestSQLiteBusyIsUnavailable holds the write lock from another connection
// past the store's busy timeout: the write is store.ErrUnavailable.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.db")
	s := openMigrated(t, "sqlite://"+path+"?_pragma=busy_timeout(50)")
	now := time.Now()
	seed(t, s, now)

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	tx, err := other.BeginTx(testCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE users SET updated_at = updated_at + 1`); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateUser(testCtx(t), store.User{ID: "b", Email: "b@example.com", PasswordHash: "h"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CreateUser while another process holds the lock: %v, want store.ErrUnavailable", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(testCtx(t), store.User{ID: "b", Email: "b@example.com", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser once the lock is free: %v", err)
	}
}
