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
		key   string // v1
		v2    string // the v2 key, written too by default
		value string
		ttl   time.Duration // -1: no expiry
	}{
		{"token", func() error { return dl.RevokeToken(ctx, "u", "j1", now.Add(10*time.Minute)) },
			"jti:j1", "{u}:jti:j1", "1", 10 * time.Minute},
		{"rounded up to the millisecond", func() error { return dl.RevokeToken(ctx, "u", "j2", now.Add(1500*time.Millisecond+time.Nanosecond)) },
			"jti:j2", "{u}:jti:j2", "1", 1501 * time.Millisecond},
		{"token not shortened", func() error {
			return errors.Join(dl.RevokeToken(ctx, "u", "j3", now.Add(10*time.Minute)), dl.RevokeToken(ctx, "u", "j3", now.Add(time.Minute)))
		}, "jti:j3", "{u}:jti:j3", "1", 10 * time.Minute},
		{"token extended", func() error {
			return errors.Join(dl.RevokeToken(ctx, "u", "j4", now.Add(time.Minute)), dl.RevokeToken(ctx, "u", "j4", now.Add(10*time.Minute)))
		}, "jti:j4", "{u}:jti:j4", "1", 10 * time.Minute},
		{"permanent entry stays permanent", func() error { return dl.RevokeToken(ctx, "u", "permanent", now.Add(time.Minute)) },
			"jti:permanent", "", "1", -1}, // its v2 key is new: see below
		{"session", func() error { return dl.RevokeSessions(ctx, "u", []string{"s1", "s2"}, now.Add(5*time.Minute)) },
			"sid:s2", "{u}:sid:s2", "1", 5 * time.Minute},
		{"user", func() error { return dl.RevokeUserBefore(ctx, "u1", cutoff, now.Add(20*time.Minute)) },
			"sub:u1", "{u1}:cut", unix(cutoff), 20 * time.Minute},
		{"greater cutoff, shorter until", func() error {
			return errors.Join(dl.RevokeUserBefore(ctx, "u2", earlier, now.Add(20*time.Minute)), dl.RevokeUserBefore(ctx, "u2", cutoff, now.Add(time.Minute)))
		}, "sub:u2", "{u2}:cut", unix(cutoff), 20 * time.Minute},
		{"lower cutoff, longer until", func() error {
			return errors.Join(dl.RevokeUserBefore(ctx, "u3", cutoff, now.Add(time.Minute)), dl.RevokeUserBefore(ctx, "u3", earlier, now.Add(20*time.Minute)))
		}, "sub:u3", "{u3}:cut", unix(cutoff), 20 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.write(); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{tc.key, tc.v2} {
				if key == "" {
					continue
				}
				if got, err := client.Get(ctx, prefix+key).Result(); err != nil || got != tc.value {
					t.Errorf("GET %s = %q, %v; want %q", key, got, err, tc.value)
				}
				pttl, err := client.PTTL(ctx, prefix+key).Result()
				if err != nil {
					t.Fatal(err)
				}
				const slack = 2 * time.Second // time spent since the write
				if tc.ttl < 0 {
					if pttl >= 0 {
						t.Errorf("PTTL %s = %v, want no expiry", key, pttl)
					}
				} else if pttl > tc.ttl || pttl < tc.ttl-slack {
					t.Errorf("PTTL %s = %v, want in (%v, %v]", key, pttl, tc.ttl-slack, tc.ttl)
				}
			}
		})
	}
}

// TestRedisKeyLayout reads the raw keys: the layout is what other services
// rely on, so it is checked key by key, and nothing else is written.
func TestRedisKeyLayout(t *testing.T) {
	v2 := map[string]string{
		"{u-1}:jti:7c1d0b9e-jti":              "1",
		"{u-1}:jti:id with spaces:and colons": "1",
		"{u-1}:sid:sess-a":                    "1",
		"{u-1}:sid:sess-b":                    "1",
		"{user-42}:cut":                       "1767225600",
	}
	v1 := map[string]string{
		"jti:7c1d0b9e-jti":              "1",
		"jti:id with spaces:and colons": "1",
		"sid:sess-a":                    "1",
		"sid:sess-b":                    "1",
		"sub:user-42":                   "1767225600",
	}
	for _, tc := range []struct {
		name string
		opts []denylist.RedisOption
		want []map[string]string
	}{
		{"default, v1+v2", nil, []map[string]string{v2, v1}},
		{"v1+v2", []denylist.RedisOption{denylist.WithLayout(denylist.LayoutV1V2)}, []map[string]string{v2, v1}},
		{"v2", []denylist.RedisOption{denylist.WithLayout(denylist.LayoutV2)}, []map[string]string{v2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, prefix := testenv.Redis(t)
			clock, now := fixedClock()
			dl := denylist.NewRedis(client, append([]denylist.RedisOption{denylist.WithKeyPrefix(prefix), denylist.WithClock(clock)}, tc.opts...)...)
			ctx := t.Context()
			until := now.Add(time.Hour)
			err := errors.Join(
				dl.RevokeToken(ctx, "u-1", "7c1d0b9e-jti", until),
				dl.RevokeToken(ctx, "u-1", "id with spaces:and colons", until),
				dl.RevokeToken(ctx, "u-1", "expired", now.Add(-time.Second)),
				dl.RevokeSessions(ctx, "u-1", []string{"sess-a", "sess-b"}, until),
				dl.RevokeUserBefore(ctx, "user-42", time.Unix(1767225600, 999_000_000), until),
			)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, m := range tc.want {
				for k, v := range m {
					want[prefix+k] = v
				}
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
		})
	}
}

// TestRedisDefaultPrefix: without WithKeyPrefix, keys start with
// "authd:dl:". The id is unique, so the shared server is safe.
func TestRedisDefaultPrefix(t *testing.T) {
	client, _ := testenv.Redis(t)
	dl := denylist.NewRedis(client)
	ctx := t.Context()
	jti := testenv.RandomName("prefix-test-")
	if err := dl.RevokeToken(ctx, "u", jti, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{denylist.DefaultKeyPrefix + "{u}:jti:" + jti, denylist.DefaultKeyPrefix + "jti:" + jti} {
		t.Cleanup(func() { client.Del(context.Background(), key) })
		if n, err := client.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Errorf("EXISTS %s = %d, %v; want 1", key, n, err)
		}
	}
}
