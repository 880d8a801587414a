package denylist_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestRedisEvents: every revocation written is published on
// <prefix>events, one message per entry, in order; one not written (past
// until) publishes nothing.
func TestRedisEvents(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	ctx := t.Context()
	sub := client.Subscribe(ctx, prefix+"events")
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(ctx); err != nil { // the subscription is live
		t.Fatal(err)
	}
	msgs := sub.Channel()

	now := time.Now()
	until := now.Add(time.Hour).Truncate(time.Second)
	cutoff := now.Truncate(time.Second)
	err := errors.Join(
		dl.RevokeToken(ctx, "u1", "j1", until.Add(300*time.Millisecond)), // until rounded up
		dl.RevokeSessions(ctx, "u1", []string{"s1", "s 2"}, until),
		dl.RevokeToken(ctx, "u1", "expired", now.Add(-time.Second)),
		dl.RevokeUserBefore(ctx, "u1", cutoff, until),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		msg   string
		event denylist.Event
	}{
		{"jti " + unix(until.Add(time.Second)) + " j1",
			denylist.Event{Kind: denylist.EventToken, ID: "j1", Until: until.Add(time.Second)}},
		{"sid " + unix(until) + " s1",
			denylist.Event{Kind: denylist.EventSession, ID: "s1", Until: until}},
		{"sid " + unix(until) + " s 2",
			denylist.Event{Kind: denylist.EventSession, ID: "s 2", Until: until}},
		{"sub " + unix(until) + " " + unix(cutoff) + " u1",
			denylist.Event{Kind: denylist.EventUser, ID: "u1", Until: until, Cutoff: cutoff}},
	}
	for _, w := range want {
		select {
		case m := <-msgs:
			if m.Channel != prefix+"events" || m.Payload != w.msg {
				t.Errorf("got %q on %q, want %q", m.Payload, m.Channel, w.msg)
			}
			e, err := denylist.ParseEvent(m.Payload)
			if err != nil || !sameEvent(e, w.event) {
				t.Errorf("ParseEvent(%q) = %+v, %v; want %+v", m.Payload, e, err, w.event)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event; want %q", w.msg)
		}
	}
	select {
	case m := <-msgs:
		t.Errorf("unexpected event %q", m.Payload)
	case <-time.After(100 * time.Millisecond):
	}
}
