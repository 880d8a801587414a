package app

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// failOpen is the policy of the limiter and the login backoff when their
// backend (Redis) fails: let the request through. An outage must not lock
// every user out, and the bcrypt gate still bounds what the requests let
// through can cost. After a failure the backend is skipped for pause, so a
// dead Redis costs one call (with its dial retries) per pause instead of
// several per request. A warning is logged at most once per every.
type failOpen struct {
	logger       *slog.Logger
	every, pause time.Duration
	now          func() time.Time
	// skipUntil is when to try the backend again, in Unix nanoseconds;
	// read on every call, so it is an atomic rather than under mu.
	skipUntil atomic.Int64

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

func newFailOpen(log *slog.Logger) *failOpen {
	return &failOpen{logger: log, every: time.Minute, pause: time.Second, now: time.Now}
}

// skip reports whether the backend is being skipped after a failure.
func (f *failOpen) skip() bool { return f.now().UnixNano() < f.skipUntil.Load() }

// failed notes a backend error: skip it for a while and warn, throttled.
// A request that ended (client gone) says nothing about the backend.
func (f *failOpen) failed(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	now := f.now()
	f.skipUntil.Store(now.Add(f.pause).UnixNano())
	f.mu.Lock()
	if !f.lastLog.IsZero() && now.Sub(f.lastLog) < f.every {
		f.suppressed++
		f.mu.Unlock()
		return
	}
	n := f.suppressed
	f.lastLog, f.suppressed = now, 0
	f.mu.Unlock()
	f.logger.LogAttrs(ctx, slog.LevelWarn, what+" failed; allowing requests unlimited (fail open)",
		slog.Any("error", err), slog.Int("suppressed_since_last", n))
}

// failOpenLimiter is a Limiter that never fails: see failOpen.
type failOpenLimiter struct {
	ratelimit.Limiter
	fo *failOpen
}

func (l failOpenLimiter) Allow(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	if l.fo.skip() {
		return ratelimit.Result{Allowed: true}, nil
	}
	res, err := l.Limiter.Allow(ctx, key, lim)
	if err != nil {
		l.fo.failed(ctx, "rate limiter", err)
		return ratelimit.Result{Allowed: true}, nil
	}
	return res, nil
}

// failOpenBackoff is a Backoff that never fails and, on failure, imposes
// no delay: see failOpen.
type failOpenBackoff struct {
	ratelimit.Backoff
	fo *failOpen
}

func (b failOpenBackoff) Failure(ctx context.Context, key string) (time.Duration, error) {
	if b.fo.skip() {
		return 0, nil
	}
	d, err := b.Backoff.Failure(ctx, key)
	if err != nil {
		b.fo.failed(ctx, "login backoff", err)
		return 0, nil
	}
	return d, nil
}

func (b failOpenBackoff) Success(ctx context.Context, key string) error {
	if b.fo.skip() {
		return nil
	}
	if err := b.Backoff.Success(ctx, key); err != nil {
		b.fo.failed(ctx, "login backoff", err)
	}
	return nil
}

func (b failOpenBackoff) Delay(ctx context.Context, key string) (time.Duration, error) {
	if b.fo.skip() {
		return 0, nil
	}
	d, err := b.Backoff.Delay(ctx, key)
	if err != nil {
		b.fo.failed(ctx, "login backoff", err)
		return 0, nil
	}
	return d, nil
}
