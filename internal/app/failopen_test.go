package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/redis/go-redis/v9"
)

// countingLimiter fails every call and counts them.
type countingLimiter struct{ calls atomic.Int64 }

func (c *countingLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Result, error) {
	c.calls.Add(1)
	return ratelimit.Result{}, ratelimit.ErrUnavailable
}

// With Redis unreachable, the limiter and the backoff let everything
// through and say so, once per interval however many requests fail.
func TestFailOpen(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	var logs bytes.Buffer
	fo := newFailOpen(slog.New(slog.NewTextHandler(&logs, nil)))
	fo.pause = 0 // reach the backend every time
	b, err := ratelimit.NewRedisBackoff(down, ratelimit.DefaultBackoffPolicy())
	if err != nil {
		t.Fatal(err)
	}
	limiter := failOpenLimiter{ratelimit.NewRedis(down), fo}
	backoff := failOpenBackoff{b, fo}
	ctx := context.Background()
	for range 2 {
		if res, err := limiter.Allow(ctx, "k", ratelimit.PerMinute(1)); err != nil || !res.Allowed {
			t.Fatalf("Allow = %+v, %v; want allowed", res, err)
		}
		if d, err := backoff.Delay(ctx, "k"); err != nil || d != 0 {
			t.Fatalf("Delay = %v, %v", d, err)
		}
		if d, err := backoff.Failure(ctx, "k"); err != nil || d != 0 {
			t.Fatalf("Failure = %v, %v", d, err)
		}
		if err := backoff.Success(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "fail open") {
		t.Fatalf("%d warnings:\n%s", n, logs.String())
	}
}

// After a failure the backend is left alone for the pause, then tried
// again; a request that was cancelled does not count as a failure.
func TestFailOpenPausesTheBackend(t *testing.T) {
	now := time.Unix(1000, 0)
	fo := newFailOpen(slog.New(slog.DiscardHandler))
	fo.now = func() time.Time { return now }
	inner := &countingLimiter{}
	l := failOpenLimiter{inner, fo}
	ctx := context.Background()
	for range 10 {
		if res, _ := l.Allow(ctx, "k", ratelimit.PerMinute(1)); !res.Allowed {
			t.Fatal("refused while failing open")
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("backend called %d times within the pause, want 1", n)
	}
	now = now.Add(fo.pause)
	l.Allow(ctx, "k", ratelimit.PerMinute(1))
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("backend not retried after the pause: %d calls", n)
	}

	fo2 := newFailOpen(slog.New(slog.DiscardHandler))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	inner2 := &countingLimiter{}
	l2 := failOpenLimiter{inner2, fo2}
	l2.Allow(cancelled, "k", ratelimit.PerMinute(1))
	l2.Allow(ctx, "k", ratelimit.PerMinute(1))
	if n := inner2.calls.Load(); n != 2 {
		t.Fatalf("a cancelled request paused the backend: %d calls", n)
	}
}
