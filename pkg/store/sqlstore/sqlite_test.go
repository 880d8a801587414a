package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/authd/authd/pkg/store/storetest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openMigrated opens dsn, migrates it and closes it when t ends.
func openMigrated(t testing.TB, dsn string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(testCtx(t), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, "sqlite://"+filepath.Join(t.TempDir(), "authd.db"))
	})
}

func TestSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, ":memory:")
	})
}

func TestSQLiteDSNForms(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, dsn string }{
		{"sqlite scheme", "sqlite://" + filepath.Join(dir, "a.db")},
		{"sqlite scheme with params", "sqlite://" + filepath.Join(dir, "b.db") + "?_pragma=cache_size(-4000)"},
		{"file uri", "file:" + filepath.Join(dir, "c.db")},
		{"plain path", filepath.Join(dir, "d.db")},
		{"memory", ":memory:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openMigrated(t, c.dsn)
			ctx := testCtx(t)
			if _, err := s.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			// Reads may go through another pool: they must see the write.
			if _, err := s.UserByID(ctx, "u"); err != nil {
				t.Fatalf("UserByID: %v", err)
			}
		})
	}
}

func TestSQLiteMigrateIdempotent(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "authd.db")
	s := openMigrated(t, dsn)
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// A second Store on the same file (a restart) migrates to no effect.
	again := openMigrated(t, dsn)
	if err := again.Ping(testCtx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		dsn  string
		opts []sqlstore.Option
	}{
		{"negative pool", ":memory:", []sqlstore.Option{sqlstore.WithMaxOpenConns(-1)}},
		{"postgres pool of one", "postgres://127.0.0.1:1/x", []sqlstore.Option{sqlstore.WithMaxOpenConns(1)}},
		{"nil clock", ":memory:", []sqlstore.Option{sqlstore.WithClock(nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.Open(testCtx(t), c.dsn, c.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
		})
	}
}

func TestWithClock(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 10000, time.UTC)
	s := openMigrated(t, ":memory:", sqlstore.WithClock(func() time.Time { return at }))
	u, err := s.CreateUser(testCtx(t), store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if !u.CreatedAt.Equal(at) || !u.UpdatedAt.Equal(at) {
		t.Errorf("times %v/%v, want %v from the clock", u.CreatedAt, u.UpdatedAt, at)
	}
}

func TestInvalidArguments(t *testing.T) {
	s := openMigrated(t, ":memory:")
	ctx := testCtx(t)
	cases := []struct {
		name string
		err  error
	}{
		{"user without email", func() error { _, err := s.CreateUser(ctx, store.User{ID: "u", PasswordHash: "h"}); return err }()},
		{"rotation without now", func() error {
			_, err := s.RotateRefresh(ctx, store.Rotation{SessionID: "s", PresentedJTI: "a", NewJTI: "b"})
			return err
		}()},
		{"session without jti", func() error {
			_, err := s.CreateSession(ctx, store.NewSession{ID: "s", UserID: "u"})
			return err
		}()},
		{"one-time token without hash", s.CreateOneTimeToken(ctx, store.OneTimeToken{Purpose: "p", UserID: "u",
			Email: "u@example.com", ExpiresAt: time.Now()})},
		{"consume without purpose", func() error {
			_, err := s.ConsumeOneTimeToken(ctx, []byte{1}, "", time.Now())
			return err
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			for _, sentinel := range []error{store.ErrNotFound, store.ErrAlreadyExists, store.ErrSessionRevoked, store.ErrRefreshReused} {
				if errors.Is(c.err, sentinel) {
					t.Errorf("%v matches %v; an invalid call is no domain outcome", c.err, sentinel)
				}
			}
		})
	}
}
