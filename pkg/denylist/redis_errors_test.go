package denylist_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRedisUnavailable: with Redis down every operation fails with an
// error matching both ErrUnavailable and the network cause; in particular
// a check never reads an outage as "not revoked".
func TestRedisUnavailable(t *testing.T) {
	client := redis.NewClient(&redis.Options{
		Addr:        closedAddr(t),
		DialTimeout: 200 * time.Millisecond,
		MaxRetries:  -1,
		// One dial attempt per command keeps the test fast.
		DialerRetries: 1,
	})
	t.Cleanup(func() { client.Close() })
	dl := denylist.NewRedis(client)
	ctx := t.Context()
	until := time.Now().Add(time.Minute)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Check", func() error { return dl.Check(ctx, denylist.Token{JTI: "j", SID: "s", Subject: "u"}) }},
		{"RevokeToken", func() error { return dl.RevokeToken(ctx, "u", "j", until) }},
		{"RevokeSessions", func() error { return dl.RevokeSessions(ctx, "u", []string{"s1", "s2"}, until) }},
		{"RevokeUserBefore", func() error { return dl.RevokeUserBefore(ctx, "u", time.Now(), until) }},
		{"Ping", func() error { return dl.Ping(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, denylist.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			var opErr *net.OpError
			if !errors.As(err, &opErr) {
				t.Errorf("err = %v (%T), want the *net.OpError cause kept", err, errors.Unwrap(err))
			}
			if errors.Is(err, denylist.ErrRevoked) {
				t.Errorf("err = %v, must not match ErrRevoked", err)
			}
		})
	}
}

// TestRedisCanceled: a cancelled context is an unavailable answer that
// still matches context.Canceled, not "not revoked".
func TestRedisCanceled(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := dl.Check(ctx, denylist.Token{JTI: "j", Subject: "u"})
	if !errors.Is(err, denylist.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Check = %v, want ErrUnavailable and context.Canceled", err)
	}
}

// TestRedisCorruptEntry: a cutoff that cannot be read might be a
// revocation, so it is reported as unavailable, never as "not revoked";
// a revocation by jti or sid still wins, as it needs no parsing.
func TestRedisCorruptEntry(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	ctx := t.Context()
	if err := client.Set(ctx, prefix+"sub:u1", "not-a-number", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := dl.Check(ctx, denylist.Token{JTI: "j", Subject: "u1"}); !errors.Is(err, denylist.ErrUnavailable) {
		t.Errorf("Check = %v, want ErrUnavailable", err)
	}
	if err := dl.RevokeToken(ctx, "u1", "j", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := dl.Check(ctx, denylist.Token{JTI: "j", Subject: "u1"}); !errors.Is(err, denylist.ErrRevoked) {
		t.Errorf("Check = %v, want ErrRevoked", err)
	}
	// A new cutoff heals the entry.
	if err := dl.RevokeUserBefore(ctx, "u1", time.Unix(1000, 0), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := client.Get(ctx, prefix+"sub:u1").Result(); got != "1000" {
		t.Errorf("sub:u1 = %q after a new cutoff, want 1000", got)
	}
}
