package denylist_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/denylist/denylisttest"
)

func TestRedis(t *testing.T) {
	testenv.Redis(t) // skip (or fail) once here, not in every sub-test
	denylisttest.Run(t, func(t *testing.T, clock func() time.Time) denylist.Denylist {
		client, prefix := testenv.Redis(t)
		return denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock))
	})
}

// fixedClock is a clock stopped at an arbitrary instant, far from the
// server's: TTLs are relative, so they do not depend on it.
func fixedClock() (func() time.Time, time.Time) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return now }, now
}

// TestRedisTTL: every key lives until its until, rounded up to the
// millisecond, and a later write never shortens it.
func TestRedisTTL(t *testing.T) {
	client, prefix := testenv.Redis(t)
	clock, now := fixedClock()
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock))
	ctx := t.Context()
	cutoff, earlier := now.Add(-time.Minute), now.Add(-time.Hour)
	if err := client.Set(ctx, prefix+"jti:permanent", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func() error
		key   string
		value string
		ttl   time.Duration // -1: no expiry
	}{
		{"token", func() error { return dl.RevokeToken(ctx, "j1", now.Add(10*time.Minute)) },
			"jti:j1", "1", 10 * time.Minute},
		{"rounded up to the millisecond", func() error { return dl.RevokeToken(ctx, "j2", now.Add(1500*time.Millisecond+time.Nanosecond)) },
			"jti:j2", "1", 1501 * time.Millisecond},
		{"token not shortened", func() error {
			return errors.Join(dl.RevokeToken(ctx, "j3", now.Add(10*time.Minute)), dl.RevokeToken(ctx, "j3", now.Add(time.Minute)))
		}, "jti:j3", "1", 10 * time.Minute},
		{"token extended", func() error {
			return errors.Join(dl.RevokeToken(ctx, "j4", now.Add(time.Minute)), dl.RevokeToken(ctx, "j4", now.Add(10*time.Minute)))
		}, "jti:j4", "1", 10 * time.Minute},
		{"permanent entry stays permanent", func() error { return dl.RevokeToken(ctx, "permanent", now.Add(time.Minute)) },
			"jti:permanent", "1", -1},
		{"session", func() error { return dl.RevokeSessions(ctx, []string{"s1", "s2"}, now.Add(5*time.Minute)) },
			"sid:s2", "1", 5 * time.Minute},
		{"user", func() error { return dl.RevokeUserBefore(ctx, "u1", cutoff, now.Add(20*time.Minute)) },
			"sub:u1", unix(cutoff), 20 * time.Minute},
		{"greater cutoff, shorter until", func() error {
			return errors.Join(dl.RevokeUserBefore(ctx, "u2", earlier, now.Add(20*time.Minute)), dl.RevokeUserBefore(ctx, "u2", cutoff, now.Add(time.Minute)))
		}, "sub:u2", unix(cutoff), 20 * time.Minute},
		{"lower cutoff, longer until", func() error {
			return errors.Join(dl.RevokeUserBefore(ctx, "u3", cutoff, now.Add(time.Minute)), dl.RevokeUserBefore(ctx, "u3", earlier, now.Add(20*time.Minute)))
		}, "sub:u3", unix(cutoff), 20 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.write(); err != nil {
				t.Fatal(err)
			}
			if got, err := client.Get(ctx, prefix+tc.key).Result(); err != nil || got != tc.value {
				t.Errorf("GET %s = %q, %v; want %q", tc.key, got, err, tc.value)
			}
			pttl, err := client.PTTL(ctx, prefix+tc.key).Result()
			if err != nil {
				t.Fatal(err)
			}
			const slack = 2 * time.Second // time spent since the write
			if tc.ttl < 0 {
				if pttl >= 0 {
					t.Errorf("PTTL %s = %v, want no expiry", tc.key, pttl)
				}
			} else if pttl > tc.ttl || pttl < tc.ttl-slack {
				t.Errorf("PTTL %s = %v, want in (%v, %v]", tc.key, pttl, tc.ttl-slack, tc.ttl)
			}
		})
	}
}

// TestRedisKeyLayout reads the raw keys: the layout is what other services
// rely on, so it is checked key by key, and nothing else is written.
func TestRedisKeyLayout(t *testing.T) {
	client, prefix := testenv.Redis(t)
	clock, now := fixedClock()
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock))
	ctx := t.Context()
	until := now.Add(time.Hour)
	err := errors.Join(
		dl.RevokeToken(ctx, "7c1d0b9e-jti", until),
		dl.RevokeToken(ctx, "id with spaces:and colons", until),
		dl.RevokeToken(ctx, "expired", now.Add(-time.Second)),
		dl.RevokeSessions(ctx, []string{"sess-a", "sess-b"}, until),
		dl.RevokeUserBefore(ctx, "user-42", time.Unix(1767225600, 999_000_000), until),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		prefix + "jti:7c1d0b9e-jti":              "1",
		prefix + "jti:id with spaces:and colons": "1",
		prefix + "sid:sess-a":                    "1",
		prefix + "sid:sess-b":                    "1",
		prefix + "sub:user-42":                   "1767225600",
	}
	got := map[string]string{}
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		v, err := client.Get(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatalf("GET %s: %v", iter.Val(), err)
		}
		got[iter.Val()] = v
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestRedisDefaultPrefix: without WithKeyPrefix, keys start with
// "authd:dl:". The id is unique, so the shared server is safe.
func TestRedisDefaultPrefix(t *testing.T) {
	client, _ := testenv.Redis(t)
	dl := denylist.NewRedis(client)
	ctx := t.Context()
	jti := testenv.RandomName("prefix-test-")
	if err := dl.RevokeToken(ctx, jti, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	key := denylist.DefaultKeyPrefix + "jti:" + jti
	t.Cleanup(func() { client.Del(context.Background(), key) })
	if n, err := client.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Errorf("EXISTS %s = %d, %v; want 1", key, n, err)
	}
}
