package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// runAuditPurge checks PurgeAuditEvents: the oldest events go first, in
// bounded batches, nothing younger than the cutoff goes, and a cutoff
// within store.MinAuditAge is refused. With rawExec, it also checks that
// the triggers still refuse deleting recent events outright, which the
// purge's exception must not open.
func runAuditPurge(t *testing.T, newLog func(t *testing.T) (store.AuditLog, func(ctx context.Context, query string) error)) {
	log, rawExec := newLog(t)
	ctx := context.Background()
	now := time.Now()
	in := []store.AuditEvent{
		{At: now.Add(-10 * 24 * time.Hour), Type: "login", Outcome: "success", Detail: "old0"},
		{At: now.Add(-9 * 24 * time.Hour), Type: "login", Outcome: "success", Detail: "old1"},
		{At: now.Add(-3 * 24 * time.Hour), Type: "login", Outcome: "success", Detail: "old3"},
		// Appended after a younger one: the purge goes by At, not by id.
		{At: now.Add(-8 * 24 * time.Hour), Type: "login", Outcome: "success", Detail: "old2"},
		{At: now.Add(-time.Hour), Type: "login", Outcome: "success", Detail: "hour"},
		{Type: "login", Outcome: "success", Detail: "now"},
	}
	if err := log.AppendAuditEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	left := func() []string {
		t.Helper()
		got, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return details(got)
	}
	cutoff := now.Add(-2 * 24 * time.Hour)
	steps := []struct {
		limit int
		n     int64
		left  []string
	}{
		{2, 2, []string{"now", "hour", "old2", "old3"}},
		{2, 2, []string{"now", "hour"}},
		{2, 0, []string{"now", "hour"}},
	}
	for i, st := range steps {
		n, err := log.PurgeAuditEvents(ctx, cutoff, st.limit)
		if err != nil {
			t.Fatalf("purge %d: %v", i, err)
		}
		if n != st.n {
			t.Errorf("purge %d deleted %d, want %d", i, n, st.n)
		}
		if got := left(); !slices.Equal(got, st.left) {
			t.Fatalf("after purge %d: %v, want %v", i, got, st.left)
		}
	}
	refused := []struct {
		name   string
		before time.Time
		limit  int
	}{
		{"cutoff now", now, 10},
		{"cutoff within MinAuditAge", now.Add(-store.MinAuditAge + time.Minute), 10},
		{"limit 0", cutoff, 0},
		{"limit above the batch bound", cutoff, store.MaxAuditPurgeBatch + 1},
	}
	for _, r := range refused {
		if n, err := log.PurgeAuditEvents(ctx, r.before, r.limit); err == nil {
			t.Errorf("%s: purge accepted (deleted %d)", r.name, n)
		}
	}
	if got := left(); !slices.Equal(got, []string{"now", "hour"}) {
		t.Fatalf("refused purges deleted events: left %v", got)
	}
	if rawExec == nil {
		return
	}
	if err := rawExec(ctx, "DELETE FROM audit_events"); err == nil {
		t.Error("DELETE of events younger than a day succeeded, want the trigger to refuse it")
	}
	if got := left(); !slices.Equal(got, []string{"now", "hour"}) {
		t.Fatalf("a refused DELETE deleted events: left %v", got)
	}
}
