package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// RunAudit is the conformance suite of an AuditLog. rawExec runs a
// statement directly on the backend's database, to prove that stored events
// cannot be changed or deleted, but for the erasure of their IP and user
// agent.
func RunAudit(t *testing.T, newLog func(t *testing.T) (store.AuditLog, func(ctx context.Context, query string) error)) {
	t.Run("AppendAndReadNewestFirst", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		base := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
		in := []store.AuditEvent{
			{At: base, Type: "login", Outcome: "failure", UserID: "u1", IP: "192.0.2.1", UserAgent: "app/1", Detail: "invalid_credentials"},
			{At: base.Add(time.Second), Type: "login", Outcome: "success", UserID: "u1", SessionID: "s1", IP: "192.0.2.1"},
			{At: base.Add(2 * time.Second), Type: "user_disable", Outcome: "success", UserID: "u2", ActorID: "admin1", SessionID: "s2"},
		}
		if err := log.AppendAuditEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		all, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 10})
		if err != nil || len(all) != 3 {
			t.Fatalf("events = %d, %v", len(all), err)
		}
		for i, want := range []store.AuditEvent{in[2], in[1], in[0]} {
			got := all[i]
			want.ID = got.ID
			if !got.At.Equal(want.At) {
				t.Errorf("event %d At = %v, want %v", i, got.At, want.At)
			}
			got.At, want.At = time.Time{}, time.Time{}
			if got != want {
				t.Errorf("event %d (newest first) = %+v, want %+v", i, got, want)
			}
		}
		if all[0].ID <= all[1].ID || all[1].ID <= all[2].ID {
			t.Fatal("ids must increase with insertion order")
		}
		mine, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 10, UserID: "u1"})
		if err != nil || len(mine) != 2 {
			t.Fatalf("u1 events = %d, %v", len(mine), err)
		}
		one, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 1})
		if err != nil || len(one) != 1 || one[0].Type != "user_disable" {
			t.Fatalf("limit 1 = %+v, %v", one, err)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		base := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
		// 30 events: users u0..u2 in turn, types login/logout in turn, one
		// second apart.
		var in []store.AuditEvent
		for i := range 30 {
			in = append(in, store.AuditEvent{At: base.Add(time.Duration(i) * time.Second), Type: []string{"login", "logout"}[i%2],
				Outcome: "success", UserID: fmt.Sprintf("u%d", i%3), Detail: fmt.Sprint(i)})
		}
		if err := log.AppendAuditEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		all, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 1000})
		if err != nil || len(all) != 30 {
			t.Fatalf("all = %d, %v", len(all), err)
		}
		idOf := func(i int) int64 { return all[29-i].ID } // all is newest first
		cases := []struct {
			name string
			q    store.AuditQuery
			want func(i int) bool // which of in, by index
		}{
			{"none", store.AuditQuery{Limit: 1000}, func(int) bool { return true }},
			{"user", store.AuditQuery{Limit: 1000, UserID: "u1"}, func(i int) bool { return i%3 == 1 }},
			{"type", store.AuditQuery{Limit: 1000, Type: "logout"}, func(i int) bool { return i%2 == 1 }},
			{"since is inclusive", store.AuditQuery{Limit: 1000, Since: base.Add(20 * time.Second)}, func(i int) bool { return i >= 20 }},
			{"before is exclusive", store.AuditQuery{Limit: 1000, Before: idOf(10)}, func(i int) bool { return i < 10 }},
			{"all four", store.AuditQuery{Limit: 1000, UserID: "u0", Type: "login", Since: base.Add(5 * time.Second), Before: idOf(25)},
				func(i int) bool { return i%3 == 0 && i%2 == 0 && i >= 5 && i < 25 }},
			{"unknown user", store.AuditQuery{Limit: 1000, UserID: "nobody"}, func(int) bool { return false }},
			{"limit keeps the newest", store.AuditQuery{Limit: 4, UserID: "u2"}, func(i int) bool { return i%3 == 2 && i >= 20 }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := log.AuditEvents(ctx, c.q)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i := 29; i >= 0; i-- {
					if c.want(i) {
						want = append(want, fmt.Sprint(i))
					}
				}
				if g := details(got); !slices.Equal(g, want) {
					t.Fatalf("details = %v, want %v", g, want)
				}
			})
		}
	})
	t.Run("PagesWithBefore", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		var in []store.AuditEvent
		for i := range 23 {
			in = append(in, store.AuditEvent{Type: "login", Outcome: "success", UserID: "u", Detail: fmt.Sprint(i)})
		}
		in = append(in, store.AuditEvent{Type: "login", Outcome: "success", UserID: "other"})
		if err := log.AppendAuditEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		var got []string
		q := store.AuditQuery{Limit: 5, UserID: "u"}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			page, err := log.AuditEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > q.Limit {
				t.Fatalf("page of %d, limit %d", len(page), q.Limit)
			}
			got = append(got, details(page)...)
			if len(page) < q.Limit {
				break
			}
			q.Before = page[len(page)-1].ID
		}
		var want []string
		for i := 22; i >= 0; i-- {
			want = append(want, fmt.Sprint(i))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages = %v, want %v", got, want)
		}
	})
	t.Run("LimitBounds", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		for _, limit := range []int{-1, 0, 1001} {
			if _, err := log.AuditEvents(ctx, store.AuditQuery{Limit: limit}); err == nil {
				t.Errorf("limit %d accepted", limit)
			}
		}
		for _, limit := range []int{1, 1000} {
			if _, err := log.AuditEvents(ctx, store.AuditQuery{Limit: limit}); err != nil {
				t.Errorf("limit %d: %v", limit, err)
			}
		}
	})
	t.Run("InvalidEventWritesNothing", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		err := log.AppendAuditEvents(ctx, []store.AuditEvent{{Type: "login", Outcome: "success"}, {Type: "login"}})
		if err == nil {
			t.Fatal("an event without an outcome must be refused")
		}
		if got, _ := log.AuditEvents(ctx, store.AuditQuery{Limit: 10}); len(got) != 0 {
			t.Fatalf("a refused batch left %d events", len(got))
		}
	})
	t.Run("Purge", func(t *testing.T) { runAuditPurge(t, newLog) })
	t.Run("AppendOnly", func(t *testing.T) {
		log, rawExec := newLog(t)
		ctx := context.Background()
		stored := store.AuditEvent{Type: "login", Outcome: "success", UserID: "u1", ActorID: "a1", SessionID: "s1",
			IP: "192.0.2.1", UserAgent: "app/1", Detail: "d"}
		if err := log.AppendAuditEvents(ctx, []store.AuditEvent{stored}); err != nil {
			t.Fatal(err)
		}
		refused := []string{
			"DELETE FROM audit_events",
			"UPDATE audit_events SET outcome = 'failure'",
			"UPDATE audit_events SET ip = '198.51.100.1'",
			"UPDATE audit_events SET ip = ''",
			"UPDATE audit_events SET user_agent = ''",
			"UPDATE audit_events SET ip = '', user_agent = '', detail = 'x'",
			"UPDATE audit_events SET ip = '', user_agent = '', user_id = 'u2'",
			"UPDATE audit_events SET ip = '', user_agent = '', actor_id = ''",
			"UPDATE audit_events SET ip = '', user_agent = '', session_id = ''",
			"UPDATE audit_events SET ip = '', user_agent = '', type = 'logout'",
			"UPDATE audit_events SET ip = '', user_agent = '', at = at + 1",
			"UPDATE audit_events SET ip = '', user_agent = '', id = id + 1000",
		}
		for _, q := range refused {
			if err := rawExec(ctx, q); err == nil {
				t.Errorf("%s: succeeded, want the trigger to refuse it", q)
			}
		}
		got, err := log.AuditEvents(ctx, store.AuditQuery{Limit: 10})
		if err != nil || len(got) != 1 {
			t.Fatalf("events after refused changes = %+v, %v", got, err)
		}
		stored.ID, stored.At = got[0].ID, got[0].At
		if got[0] != stored {
			t.Fatalf("event changed: %+v, want %+v", got[0], stored)
		}

		// The one change allowed: erasing IP and user agent, nothing else.
		if err := rawExec(ctx, "UPDATE audit_events SET ip = '', user_agent = ''"); err != nil {
			t.Fatalf("erasing ip and user_agent: %v", err)
		}
		got, err = log.AuditEvents(ctx, store.AuditQuery{Limit: 10})
		if err != nil || len(got) != 1 {
			t.Fatalf("events after erasure = %+v, %v", got, err)
		}
		stored.IP, stored.UserAgent = "", ""
		if got[0] != stored {
			t.Fatalf("erased event = %+v, want %+v", got[0], stored)
		}
		// Erased already: the same UPDATE changes nothing and is allowed;
		// putting a value back is not.
		if err := rawExec(ctx, "UPDATE audit_events SET ip = '', user_agent = ''"); err != nil {
			t.Fatalf("erasing again: %v", err)
		}
		if err := rawExec(ctx, "UPDATE audit_events SET ip = '192.0.2.1'"); err == nil {
			t.Fatal("writing an IP into an erased event succeeded")
		}
		if err := rawExec(ctx, "DELETE FROM audit_events"); err == nil {
			t.Fatal("DELETE of an erased event succeeded")
		}
	})
}

// details returns the Detail of each event, in order.
func details(events []store.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Detail
	}
	return out
}
