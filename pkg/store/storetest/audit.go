package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// RunAudit is the conformance suite of an AuditLog. rawExec runs a
// statement directly on the backend's database, to prove that stored events
// cannot be changed or deleted.
func RunAudit(t *testing.T, newLog func(t *testing.T) (store.AuditLog, func(ctx context.Context, query string) error)) {
	t.Run("AppendAndReadNewestFirst", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		base := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
		in := []store.AuditEvent{
			{At: base, Type: "login", Outcome: "failure", UserID: "u1", IP: "192.0.2.1", UserAgent: "app/1", Detail: "invalid_credentials"},
			{At: base.Add(time.Second), Type: "login", Outcome: "success", UserID: "u1", SessionID: "s1", IP: "192.0.2.1"},
			{At: base.Add(2 * time.Second), Type: "logout", Outcome: "success", UserID: "u2", SessionID: "s2"},
		}
		if err := log.AppendAuditEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		all, err := log.RecentAuditEvents(ctx, 10, "")
		if err != nil || len(all) != 3 {
			t.Fatalf("recent = %d events, %v", len(all), err)
		}
		if all[0].Type != "logout" || all[2].Detail != "invalid_credentials" || !all[2].At.Equal(base) || all[1].SessionID != "s1" {
			t.Fatalf("events not newest first or not round-tripped: %+v", all)
		}
		if all[0].ID <= all[1].ID {
			t.Fatal("ids must increase with insertion order")
		}
		mine, err := log.RecentAuditEvents(ctx, 10, "u1")
		if err != nil || len(mine) != 2 {
			t.Fatalf("u1 events = %d, %v", len(mine), err)
		}
		one, err := log.RecentAuditEvents(ctx, 1, "")
		if err != nil || len(one) != 1 || one[0].Type != "logout" {
			t.Fatalf("limit 1 = %+v, %v", one, err)
		}
	})
	t.Run("InvalidEventWritesNothing", func(t *testing.T) {
		log, _ := newLog(t)
		ctx := context.Background()
		err := log.AppendAuditEvents(ctx, []store.AuditEvent{{Type: "login", Outcome: "success"}, {Type: "login"}})
		if err == nil {
			t.Fatal("an event without an outcome must be refused")
		}
		if got, _ := log.RecentAuditEvents(ctx, 10, ""); len(got) != 0 {
			t.Fatalf("a refused batch left %d events", len(got))
		}
	})
	t.Run("AppendOnly", func(t *testing.T) {
		log, rawExec := newLog(t)
		ctx := context.Background()
		if err := log.AppendAuditEvents(ctx, []store.AuditEvent{{Type: "login", Outcome: "success", UserID: "u1"}}); err != nil {
			t.Fatal(err)
		}
		if err := rawExec(ctx, "UPDATE audit_events SET outcome = 'failure'"); err == nil {
			t.Fatal("UPDATE of an audit event succeeded")
		}
		if err := rawExec(ctx, "DELETE FROM audit_events"); err == nil {
			t.Fatal("DELETE of audit events succeeded")
		}
		if got, _ := log.RecentAuditEvents(ctx, 10, ""); len(got) != 1 || got[0].Outcome != "success" {
			t.Fatalf("events changed: %+v", got)
		}
	})
}
