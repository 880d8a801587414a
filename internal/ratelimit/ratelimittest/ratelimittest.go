// Package ratelimittest is the conformance suite of ratelimit.Limiter and
// ratelimit.Backoff: every backend's tests call Run and RunBackoff, so the
// in-process and Redis implementations are held to one behaviour. It is
// imported by tests only.
//
// Backends on real time (Redis) make the suite sleep: about a second in
// all, spread over parallel sub-tests.
package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// Env is how the suite drives a backend's time.
type Env struct {
	// Advance lets d pass for the backend: a fake clock jumps, real time
	// sleeps.
	Advance func(d time.Duration)
	// Slack is how far a duration the backend reports may differ from
	// the exact value, because real time passed between calls or the
	// backend rounds; 0 for a fake clock.
	Slack time.Duration
}

// NewLimiterFunc returns an empty Limiter private to t and its Env. Run
// calls it once per sub-test, from parallel sub-tests.
type NewLimiterFunc = func(t *testing.T) (ratelimit.Limiter, Env)

// NewBackoffFunc returns an empty Backoff enforcing p, private to t, and
// its Env. RunBackoff calls it once per sub-test, from parallel sub-tests.
type NewBackoffFunc = func(t *testing.T, p ratelimit.BackoffPolicy) (ratelimit.Backoff, Env)

// Run runs the Limiter conformance suite against the backend newLimiter
// builds.
func Run(t *testing.T, newLimiter NewLimiterFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, l ratelimit.Limiter, env Env)
	}{
		{"Burst", testBurst},
		{"Refill", testRefill},
		{"IndependentKeys", testIndependentKeys},
		{"Concurrent", testConcurrent},
		{"InvalidLimit", testInvalidLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, env := newLimiter(t)
			tc.test(t, l, env)
		})
	}
}

// allow calls Allow and fails the test on an error.
func allow(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %v): %v", key, limit, err)
	}
	return r
}

// near reports whether got is within slack of want.
func near(got, want, slack time.Duration) bool {
	return got >= want-slack && got <= want+slack
}

// takeBurst expects n allowed events in a row on a fresh key, counting
// Remaining down to 0, then a denial, and returns its RetryAfter.
func takeBurst(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit, n int) time.Duration {
	t.Helper()
	for i := range n {
		r := allow(t, l, key, limit)
		if !r.Allowed || r.Remaining != n-1-i || r.RetryAfter != 0 {
			t.Fatalf("event %d of %d: %+v, want allowed with %d remaining", i+1, n, r, n-1-i)
		}
	}
	r := allow(t, l, key, limit)
	if r.Allowed || r.Remaining != 0 || r.RetryAfter <= 0 {
		t.Fatalf("event %d past the burst: %+v, want denied with a RetryAfter", n+1, r)
	}
	return r.RetryAfter
}

// testBurst: a fresh key takes Burst events at once, counting Remaining
// down; the next is denied with RetryAfter = Period/Rate, and denials do
// not count, so hammering does not push RetryAfter out.
func testBurst(t *testing.T, l ratelimit.Limiter, env Env) {
	for _, tc := range []struct {
		name  string
		limit ratelimit.Limit
	}{
		{"burst equals rate", ratelimit.Limit{Rate: 5, Period: 10 * time.Second, Burst: 5}},
		{"burst above rate", ratelimit.Limit{Rate: 1, Period: 10 * time.Second, Burst: 5}},
		{"burst below rate", ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 2}},
		{"burst of one", ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}},
		{"per minute", ratelimit.PerMinute(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "burst:" + tc.name
			interval := tc.limit.Period / time.Duration(tc.limit.Rate)
			retry := takeBurst(t, l, key, tc.limit, tc.limit.Burst)
			if !near(retry, interval, env.Slack) {
				t.Fatalf("RetryAfter = %s, want %s (Period/Rate)", retry, interval)
			}
			for i := range 3 {
				r := allow(t, l, key, tc.limit)
				if r.Allowed || r.RetryAfter > retry || !near(r.RetryAfter, interval, env.Slack) {
					t.Fatalf("denial %d: %+v, want denied with RetryAfter ≤ %s: a denial must not count", i+2, r, retry)
				}
			}
		})
	}
}

// testRefill: events come back one per Period/Rate, never more than Burst.
func testRefill(t *testing.T, l ratelimit.Limiter, env Env) {
	limit := ratelimit.Limit{Rate: 5, Period: 500 * time.Millisecond, Burst: 3} // one per 100ms
	const interval = 100 * time.Millisecond
	const key = "refill"

	retry := takeBurst(t, l, key, limit, 3)
	if !near(retry, interval, env.Slack) {
		t.Fatalf("RetryAfter = %s, want %s", retry, interval)
	}
	// Exactly at RetryAfter one event is back, and only one.
	env.Advance(retry)
	if r := allow(t, l, key, limit); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after RetryAfter: %+v, want allowed with 0 remaining", r)
	}
	if r := allow(t, l, key, limit); r.Allowed {
		t.Fatalf("second event after one interval: %+v, want denied", r)
	}
	// Two intervals give two events.
	env.Advance(2 * interval)
	takeBurst(t, l, key, limit, 2)
	// A quiet spell longer than Burst intervals refills the burst, and no
	// more.
	env.Advance(4 * interval)
	takeBurst(t, l, key, limit, 3)
}

// testIndependentKeys: spending one key's budget leaves others untouched,
// including keys that share a prefix with it.
func testIndependentKeys(t *testing.T, l ratelimit.Limiter, env Env) {
	limit := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 2}
	takeBurst(t, l, "ip:10.0.0.1", limit, 2)
	for _, key := range []string{"ip:10.0.0.10", "ip:10.0.0.", "email:10.0.0.1", ""} {
		takeBurst(t, l, key, limit, 2)
	}
	if r := allow(t, l, "ip:10.0.0.1", limit); r.Allowed {
		t.Fatalf("spent key allowed again: %+v", r)
	}
}

// testConcurrent: 100 simultaneous events on one key get exactly Burst
// allowed.
func testConcurrent(t *testing.T, l ratelimit.Limiter, env Env) {
	limit := ratelimit.Limit{Rate: 1, Period: time.Minute, Burst: 10}
	const workers = 100
	var (
		allowed atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make(chan error, workers)
	)
	for range workers {
		wg.Go(func() {
			<-start
			r, err := l.Allow(context.Background(), "concurrent", limit)
			if err != nil {
				errs <- err
				return
			}
			if r.Allowed {
				allowed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Allow: %v", err)
	}
	if n := allowed.Load(); n != int64(limit.Burst) {
		t.Fatalf("%d of %d concurrent events allowed, want exactly Burst = %d", n, workers, limit.Burst)
	}
}

// testInvalidLimit: a limit that cannot be enforced is an error, not a
// verdict.
func testInvalidLimit(t *testing.T, l ratelimit.Limiter, env Env) {
	for _, limit := range []ratelimit.Limit{
		{},
		{Rate: 0, Period: time.Second, Burst: 1},
		{Rate: -1, Period: time.Second, Burst: 1},
		{Rate: 1, Period: 0, Burst: 1},
		{Rate: 1, Period: -time.Second, Burst: 1},
		{Rate: 1, Period: time.Second, Burst: 0},
		{Rate: 1_000_000, Period: time.Millisecond, Burst: 1},
		{Rate: 1, Period: time.Hour, Burst: 1 << 40},
	} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			r, err := l.Allow(context.Background(), "invalid", limit)
			if !errors.Is(err, ratelimit.ErrInvalidLimit) || r.Allowed {
				t.Fatalf("Allow = %+v, %v; want ErrInvalidLimit", r, err)
			}
		})
	}
}

// RunBackoff runs the Backoff conformance suite against the backend
// newBackoff builds.
func RunBackoff(t *testing.T, newBackoff NewBackoffFunc) {
	for _, tc := range []struct {
		name   string
		policy ratelimit.BackoffPolicy
		test   func(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy)
	}{
		{"Sequence", ratelimit.BackoffPolicy{Free: 2, Base: 100 * time.Millisecond, Max: 400 * time.Millisecond, Window: time.Minute}, testSequence},
		{"DelayElapses", ratelimit.BackoffPolicy{Free: 1, Base: 50 * time.Millisecond, Max: time.Second, Window: time.Minute}, testDelayElapses},
		{"SuccessResets", ratelimit.BackoffPolicy{Free: 2, Base: time.Minute, Max: time.Hour, Window: time.Hour}, testSuccessResets},
		{"WindowExpiry", ratelimit.BackoffPolicy{Free: 1, Base: 10 * time.Millisecond, Max: time.Second, Window: 300 * time.Millisecond}, testWindowExpiry},
		{"IndependentKeys", ratelimit.BackoffPolicy{Free: 0, Base: time.Minute, Max: time.Hour, Window: time.Hour}, testBackoffIndependentKeys},
		{"ConcurrentFailures", ratelimit.BackoffPolicy{Free: 60, Base: time.Minute, Max: time.Hour, Window: time.Hour}, testConcurrentFailures},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, env := newBackoff(t, tc.policy)
			tc.test(t, b, env, tc.policy)
		})
	}
}

func failure(t *testing.T, b ratelimit.Backoff, key string) time.Duration {
	t.Helper()
	d, err := b.Failure(context.Background(), key)
	if err != nil {
		t.Fatalf("Failure(%q): %v", key, err)
	}
	return d
}

func delay(t *testing.T, b ratelimit.Backoff, key string) time.Duration {
	t.Helper()
	d, err := b.Delay(context.Background(), key)
	if err != nil {
		t.Fatalf("Delay(%q): %v", key, err)
	}
	return d
}

// expectDelay checks Delay(key) against want within the Env's slack (and
// never above want: a wait only shrinks).
func expectDelay(t *testing.T, b ratelimit.Backoff, env Env, key string, want time.Duration) {
	t.Helper()
	got := delay(t, b, key)
	if got > want || !near(got, want, env.Slack) {
		t.Fatalf("Delay(%q) = %s, want %s", key, got, want)
	}
}

// testSequence: free failures cost nothing, then the delay doubles from
// 2×Base up to Max.
func testSequence(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	const key = "sequence"
	expectDelay(t, b, env, key, 0)
	for i, want := range []time.Duration{
		0, 0, // Free = 2
		200 * time.Millisecond, // Base×2^1
		400 * time.Millisecond, // Base×2^2 = Max
		400 * time.Millisecond, // capped
		400 * time.Millisecond,
	} {
		if got := failure(t, b, key); got != want {
			t.Fatalf("failure %d: delay %s, want %s", i+1, got, want)
		}
		expectDelay(t, b, env, key, want)
	}
}

// testDelayElapses: once the delay has passed the key may try, and its
// failures still count.
func testDelayElapses(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	const key = "elapses"
	failure(t, b, key)
	d := failure(t, b, key)
	if d != 100*time.Millisecond {
		t.Fatalf("second failure: delay %s, want 100ms", d)
	}
	env.Advance(d)
	expectDelay(t, b, env, key, 0)
	if d := failure(t, b, key); d != 200*time.Millisecond {
		t.Fatalf("third failure after the wait: delay %s, want 200ms (the count goes on)", d)
	}
}

// testSuccessResets: a success clears the delay and the count.
func testSuccessResets(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	const key = "success"
	for range 4 {
		failure(t, b, key)
	}
	expectDelay(t, b, env, key, 4*time.Minute)
	if err := b.Success(context.Background(), key); err != nil {
		t.Fatalf("Success: %v", err)
	}
	expectDelay(t, b, env, key, 0)
	for i := range p.Free {
		if d := failure(t, b, key); d != 0 {
			t.Fatalf("failure %d after success: delay %s, want 0", i+1, d)
		}
	}
	if d := failure(t, b, key); d != 2*time.Minute {
		t.Fatalf("first failure past Free after success: delay %s, want 2m", d)
	}
	// Success on a key with no failures is fine.
	if err := b.Success(context.Background(), "never-failed"); err != nil {
		t.Fatalf("Success of an unknown key: %v", err)
	}
}

// testWindowExpiry: Window without a failure forgets the count.
func testWindowExpiry(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	const key = "window"
	failure(t, b, key)
	if d := failure(t, b, key); d != 20*time.Millisecond {
		t.Fatalf("second failure: delay %s, want 20ms", d)
	}
	env.Advance(p.Window)
	expectDelay(t, b, env, key, 0)
	if d := failure(t, b, key); d != 0 {
		t.Fatalf("failure after the window: delay %s, want 0 (count restarted)", d)
	}
	if d := failure(t, b, key); d != 20*time.Millisecond {
		t.Fatalf("second failure of the new window: delay %s, want 20ms", d)
	}
}

// testBackoffIndependentKeys: one key's failures do not delay another.
func testBackoffIndependentKeys(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	failure(t, b, "alice@example.com")
	expectDelay(t, b, env, "alice@example.com", 2*time.Minute)
	for _, key := range []string{"bob@example.com", "alice@example.co", "{alice@example.com}", ""} {
		expectDelay(t, b, env, key, 0)
	}
	if err := b.Success(context.Background(), "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	expectDelay(t, b, env, "alice@example.com", 2*time.Minute)
}

// testConcurrentFailures: simultaneous failures are each counted once.
func testConcurrentFailures(t *testing.T, b ratelimit.Backoff, env Env, p ratelimit.BackoffPolicy) {
	const key, workers = "concurrent", 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			<-start
			if _, err := b.Failure(context.Background(), key); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Failure: %v", err)
	}
	// 50 counted: ten more are still free (Free = 60), the next is not.
	for i := range p.Free - workers {
		if d := failure(t, b, key); d != 0 {
			t.Fatalf("failure %d: delay %s, want 0: concurrent failures were over-counted", workers+i+1, d)
		}
	}
	if d := failure(t, b, key); d != 2*p.Base {
		t.Fatalf("failure %d: delay %s, want %s: concurrent failures were lost", p.Free+1, d, 2*p.Base)
	}
}
