package app

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestMirroredDenylistReadsItsWrites: a check right after a revocation
// returns sees it, every time. Without the catch-up the event usually, not
// always, arrives before the writer has read Redis's reply.
func TestMirroredDenylistReadsItsWrites(t *testing.T) {
	client, prefix := testenv.Redis(t)
	mirror := denylist.NewMirror(t.Context(), client, denylist.WithKeyPrefix(prefix))
	t.Cleanup(func() { mirror.Close() })
	dl := newMirroredDenylist(denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), mirror,
		denylist.DefaultMaxStaleness, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	if err := mirror.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	for i := range 200 {
		id := fmt.Sprint(i)
		iat := time.Now().Add(-time.Minute)
		for _, c := range []struct {
			name   string
			revoke func() error
			tok    denylist.Token
		}{
			{"token", func() error { return dl.RevokeToken(ctx, "u"+id, "j"+id, until) }, denylist.Token{JTI: "j" + id, Subject: "u" + id}},
			{"session", func() error { return dl.RevokeSessions(ctx, "u"+id, []string{"s" + id}, until) }, denylist.Token{JTI: "x", SID: "s" + id, Subject: "u" + id}},
			{"user", func() error { return dl.RevokeUserBefore(ctx, "u"+id, time.Now(), until) }, denylist.Token{JTI: "x", Subject: "u" + id, IssuedAt: iat}},
		} {
			if err := c.revoke(); err != nil {
				t.Fatalf("%s %d: revoke: %v", c.name, i, err)
			}
			if err := dl.Check(ctx, c.tok); !errors.Is(err, denylist.ErrRevoked) {
				t.Fatalf("%s %d: Check right after the revocation = %v, want ErrRevoked", c.name, i, err)
			}
		}
	}
	if err := dl.Ping(ctx); err != nil {
		t.Fatalf("Ping in sync: %v", err)
	}
}

// TestMirroredDenylistCatchUpFails: a write Redis took is reported as done
// even when the mirror cannot catch up (the lag is logged), and checks then
// fail closed; a failed write is returned at once.
func TestMirroredDenylistCatchUpFails(t *testing.T) {
	client, prefix := testenv.Redis(t)
	unsynced := denylist.NewMirror(t.Context(), nil) // never syncs
	var logs bytes.Buffer
	const staleness = 40 * time.Millisecond
	dl := newMirroredDenylist(denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), unsynced,
		staleness, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := t.Context()

	began := time.Now()
	if err := dl.RevokeToken(ctx, "u1", "j1", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken = %v, want nil: Redis has it", err)
	}
	if took := time.Since(began); took < staleness {
		t.Errorf("the write returned after %s, before the staleness bound %s", took, staleness)
	}
	if !strings.Contains(logs.String(), "has not caught up") {
		t.Errorf("the lag was not logged: %q", logs.String())
	}
	for _, key := range []string{prefix + "{u1}:jti:j1", prefix + "jti:j1"} { // v2, and v1 by default
		if n, err := client.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Fatalf("the revocation is not in Redis at %s: %d %v", key, n, err)
		}
	}
	if err := dl.Check(ctx, denylist.Token{JTI: "j2"}); !errors.Is(err, denylist.ErrUnavailable) {
		t.Errorf("Check on an unsynced mirror = %v, want ErrUnavailable", err)
	}
	if err := dl.Ping(ctx); !errors.Is(err, denylist.ErrUnavailable) {
		t.Errorf("Ping on an unsynced mirror = %v, want ErrUnavailable", err)
	}

	logs.Reset()
	if err := dl.RevokeToken(ctx, "u1", "", time.Now().Add(time.Hour)); !errors.Is(err, denylist.ErrInvalidArgument) {
		t.Errorf("RevokeToken(\"\") = %v, want ErrInvalidArgument", err)
	}
	if logs.Len() != 0 {
		t.Errorf("a failed write waited for the mirror: %q", logs.String())
	}
}
