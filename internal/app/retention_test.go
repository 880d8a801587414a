package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// The purger deletes everything older than the period in batches of its
// size, counts it, and leaves younger events alone.
func TestAuditPurgerPass(t *testing.T) {
	ctx := context.Background()
	s := migratedSQLite(t)
	now := time.Now()
	var events []store.AuditEvent
	for i := range 25 {
		events = append(events, store.AuditEvent{At: now.Add(-40*24*time.Hour + time.Duration(i)*time.Minute),
			Type: "login", Outcome: "success", Detail: fmt.Sprint("old", i)})
	}
	events = append(events,
		store.AuditEvent{At: now.Add(-20 * 24 * time.Hour), Type: "login", Outcome: "success", Detail: "kept"},
		store.AuditEvent{Type: "login", Outcome: "success", Detail: "now"})
	if err := s.AppendAuditEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	var batches int
	p := &auditPurger{log: countingLog{s, &batches}, lock: s.WithAdvisoryLock, logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now: time.Now, period: 30 * 24 * time.Hour, batch: 10, pause: time.Millisecond, interval: time.Hour}
	n, err := p.pass(ctx)
	if err != nil || n != 25 {
		t.Fatalf("pass = %d, %v; want 25 purged", n, err)
	}
	// 10 + 10 + 5: the short batch ends the pass.
	if batches != 3 {
		t.Errorf("batches = %d, want 3", batches)
	}
	if got := p.purged.Load(); got != 25 {
		t.Errorf("purged counter = %d, want 25", got)
	}
	left, err := s.AuditEvents(ctx, store.AuditQuery{Limit: 100})
	if err != nil || len(left) != 2 || left[0].Detail != "now" || left[1].Detail != "kept" {
		t.Fatalf("left = %+v, %v; want now and kept", left, err)
	}
	if n, err := p.pass(ctx); err != nil || n != 0 {
		t.Fatalf("second pass = %d, %v; want 0", n, err)
	}
}

// run returns when its context ends, mid-pause included.
func TestAuditPurgerRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := migratedSQLite(t)
	p := &auditPurger{log: s, lock: s.WithAdvisoryLock, logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now: time.Now, period: 24 * time.Hour, batch: 10, pause: time.Hour, interval: time.Hour}
	done := make(chan struct{})
	go func() { p.run(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// countingLog counts PurgeAuditEvents calls.
type countingLog struct {
	store.AuditLog
	calls *int
}

func (c countingLog) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	*c.calls++
	return c.AuditLog.PurgeAuditEvents(ctx, before, limit)
}

// migratedSQLite opens a migrated SQLite store in the test's directory.
func migratedSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
