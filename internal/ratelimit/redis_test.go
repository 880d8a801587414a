package ratelimit_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
	"github.com/authd/authd/internal/testenv"
)

// redisSlack is how far Redis's reported durations may be from the exact
// ones: real time passes between the suite's calls (more under -race on a
// busy machine), and the server keeps milliseconds.
const redisSlack = 100 * time.Millisecond

// testRedis returns the test Redis and a prefix private to t. redis_rate
// puts "rate:" before our prefix, out of testenv's cleanup, so those keys
// are deleted here too (they also expire on their own).
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	return testRedisB(t)
}

// testRedisB is testRedis for tests and benchmarks.
func testRedisB(t testing.TB) (*redis.Client, string) {
	t.Helper()
	client, prefix := testenv.Redis(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, "rate:"+prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	return client, prefix
}

func TestRedisConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) (ratelimit.Limiter, ratelimittest.Env) {
		client, prefix := testRedis(t)
		return ratelimit.NewRedis(client, ratelimit.WithKeyPrefix(prefix)), ratelimittest.RealTime(redisSlack)
	})
}

func TestRedisBackoffConformance(t *testing.T) {
	ratelimittest.RunBackoff(t, func(t *testing.T, p ratelimit.BackoffPolicy) (ratelimit.Backoff, ratelimittest.Env) {
		client, prefix := testRedis(t)
		b, err := ratelimit.NewRedisBackoff(client, p, ratelimit.WithKeyPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		return b, ratelimittest.RealTime(redisSlack)
	})
}

// TestRedisKeyLayout pins the documented layout: the keys, their values
// and that each expires.
func TestRedisKeyLayout(t *testing.T) {
	client, prefix := testRedis(t)
	ctx := t.Context()
	l := ratelimit.NewRedis(client, ratelimit.WithKeyPrefix(prefix))
	if _, err := l.Allow(ctx, "ip:192.0.2.1", ratelimit.PerMinute(10)); err != nil {
		t.Fatal(err)
	}
	b, err := ratelimit.NewRedisBackoff(client, ratelimit.BackoffPolicy{Free: 0, Base: time.Second, Max: time.Minute, Window: time.Hour}, ratelimit.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Failure(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		key       string
		value     string // "" = any
		ttlAtMost time.Duration
	}{
		{"rate:" + prefix + "ip:192.0.2.1", "", 6 * time.Second}, // ceil(one interval)
		{prefix + "backoff:{alice@example.com}:fails", "1", time.Hour},
		{prefix + "backoff:{alice@example.com}:wait", "1", 2 * time.Second},
	} {
		v, err := client.Get(ctx, k.key).Result()
		if err != nil {
			t.Fatalf("GET %s: %v", k.key, err)
		}
		if k.value != "" && v != k.value {
			t.Errorf("%s = %q, want %q", k.key, v, k.value)
		}
		ttl, err := client.PTTL(ctx, k.key).Result()
		if err != nil || ttl <= 0 || ttl > k.ttlAtMost {
			t.Errorf("PTTL %s = %s, %v; want an expiry within %s", k.key, ttl, err, k.ttlAtMost)
		}
	}
	if err := b.Success(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(ctx, prefix+"backoff:{alice@example.com}:fails", prefix+"backoff:{alice@example.com}:wait").Result(); err != nil || n != 0 {
		t.Fatalf("after Success %d backoff keys remain (%v), want 0", n, err)
	}
}

// TestRedisUnavailable: with Redis down every call fails with an error
// matching ErrUnavailable and the network cause, never a verdict.
func TestRedisUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	client := redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1,
	})
	t.Cleanup(func() { client.Close() })
	lim := ratelimit.NewRedis(client)
	b, err := ratelimit.NewRedisBackoff(client, ratelimit.DefaultBackoffPolicy())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Allow", func() error {
			r, err := lim.Allow(ctx, "k", ratelimit.PerMinute(1))
			if r.Allowed {
				t.Error("Allow reported allowed with Redis down")
			}
			return err
		}},
		{"Failure", func() error { _, err := b.Failure(ctx, "k"); return err }},
		{"Success", func() error { return b.Success(ctx, "k") }},
		{"Delay", func() error { _, err := b.Delay(ctx, "k"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ratelimit.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			var opErr *net.OpError
			if !errors.As(err, &opErr) {
				t.Errorf("err = %v, want the *net.OpError cause kept", err)
			}
		})
	}
}

// TestRedisCanceled: a cancelled context is ErrUnavailable that still
// matches context.Canceled.
func TestRedisCanceled(t *testing.T) {
	client, prefix := testRedis(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ratelimit.NewRedis(client, ratelimit.WithKeyPrefix(prefix)).Allow(ctx, "k", ratelimit.PerMinute(1))
	if !errors.Is(err, ratelimit.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrUnavailable and context.Canceled", err)
	}
}
