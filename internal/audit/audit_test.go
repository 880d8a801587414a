package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/testenv/teststore"
	"github.com/authd/authd/pkg/store"
)

func TestWriterPersistsAndDrainsOnClose(t *testing.T) {
	ctx := context.Background()
	s := teststore.SQLite(t)
	w := audit.NewWriter(s, nil, time.Now)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				w.Record(ctx, auth.Event{Type: auth.EventLogin, Outcome: auth.OutcomeSuccess, UserID: "u", IP: "192.0.2.1", UserAgent: string(rune('a' + i))})
			}
		}()
	}
	wg.Wait()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditEvents(ctx, store.AuditQuery{Limit: 1000, UserID: "u"})
	if err != nil || len(got) != 500 || w.Dropped() != 0 || w.Failed() != 0 {
		t.Fatalf("persisted %d of 500 (dropped %d, failed %d): %v", len(got), w.Dropped(), w.Failed(), err)
	}
	// After Close, Record neither panics nor writes.
	w.Record(ctx, auth.Event{Type: auth.EventLogin, Outcome: auth.OutcomeSuccess})
	if w.Dropped() != 1 {
		t.Fatalf("dropped = %d after a late Record", w.Dropped())
	}
}

// Events of a user still queued when the user is deleted are written
// without the IP and user agent the deletion erased from the stored ones;
// the deletion's own event (the admin's device) and other users' keep
// theirs.
func TestWriterErasesQueuedEventsOfDeletedUsers(t *testing.T) {
	ctx := context.Background()
	s := teststore.SQLite(t)
	w := audit.NewWriter(s, nil, time.Now)
	for _, e := range []auth.Event{
		{Type: auth.EventLogin, Outcome: auth.OutcomeSuccess, UserID: "gone", IP: "192.0.2.1", UserAgent: "phone"},
		{Type: auth.EventLogin, Outcome: auth.OutcomeSuccess, UserID: "stays", IP: "192.0.2.2", UserAgent: "laptop"},
		{Type: auth.EventUserDeleted, Outcome: auth.OutcomeSuccess, UserID: "gone", ActorID: "admin", IP: "198.51.100.7", UserAgent: "console"},
	} {
		w.Record(ctx, e)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditEvents(ctx, store.AuditQuery{Limit: 10})
	if err != nil || len(got) != 3 {
		t.Fatalf("events %+v, %v", got, err)
	}
	want := []struct{ typ, user, ip, ua string }{
		{auth.EventUserDeleted, "gone", "198.51.100.7", "console"},
		{auth.EventLogin, "stays", "192.0.2.2", "laptop"},
		{auth.EventLogin, "gone", "", ""},
	}
	for i, e := range got {
		if w := want[i]; e.Type != w.typ || e.UserID != w.user || e.IP != w.ip || e.UserAgent != w.ua {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
	}
}
