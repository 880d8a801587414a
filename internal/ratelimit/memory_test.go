package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) (ratelimit.Limiter, ratelimittest.Env) {
		clock := ratelimittest.NewClock()
		return ratelimit.NewMemory(ratelimit.WithClock(clock.Now)), clock.Env()
	})
}

func TestMemoryBackoffConformance(t *testing.T) {
	ratelimittest.RunBackoff(t, func(t *testing.T, p ratelimit.BackoffPolicy) (ratelimit.Backoff, ratelimittest.Env) {
		clock := ratelimittest.NewClock()
		b, err := ratelimit.NewMemoryBackoff(p, ratelimit.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return b, clock.Env()
	})
}

// TestMemoryExactBoundary: with a fake clock GCRA is exact to the
// nanosecond: denied 1ns before RetryAfter, allowed at it.
func TestMemoryExactBoundary(t *testing.T) {
	clock := ratelimittest.NewClock()
	m := ratelimit.NewMemory(ratelimit.WithClock(clock.Now))
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 3, Period: time.Second, Burst: 2}
	for range 2 {
		if r, _ := m.Allow(ctx, "k", limit); !r.Allowed {
			t.Fatal("burst denied")
		}
	}
	r, _ := m.Allow(ctx, "k", limit)
	if r.Allowed || r.RetryAfter != time.Second/3 {
		t.Fatalf("past burst: %+v, want denied with RetryAfter %s", r, time.Second/3)
	}
	clock.Advance(r.RetryAfter - time.Nanosecond)
	if r2, _ := m.Allow(ctx, "k", limit); r2.Allowed || r2.RetryAfter != time.Nanosecond {
		t.Fatalf("1ns early: %+v, want denied with RetryAfter 1ns", r2)
	}
	clock.Advance(time.Nanosecond)
	if r3, _ := m.Allow(ctx, "k", limit); !r3.Allowed {
		t.Fatalf("at RetryAfter: %+v, want allowed", r3)
	}
}

// TestMemoryBounded: keys back to full burst are swept as new keys come,
// and live keys never exceed about WithMaxKeys.
func TestMemoryBounded(t *testing.T) {
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 1, Period: time.Second, Burst: 1}
	tests := []struct {
		name    string
		maxKeys int
		advance time.Duration // between rounds of new keys
		atMost  int
	}{
		// Each round's keys run out before the next: only about one
		// round (plus one unswept round per shard) is ever held.
		{"expired keys swept", 1 << 20, 2 * time.Second, 3 * 10_000},
		// All keys stay live: the cap holds (64 shards × 16 each).
		{"live keys capped", 1000, 0, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := ratelimittest.NewClock()
			m := ratelimit.NewMemory(ratelimit.WithClock(clock.Now), ratelimit.WithMaxKeys(tt.maxKeys))
			for round := range 10 {
				for i := range 10_000 {
					if r, err := m.Allow(ctx, fmt.Sprintf("ip:%d:%d", round, i), limit); err != nil || !r.Allowed {
						t.Fatalf("new key: %+v, %v", r, err)
					}
				}
				if n := m.Len(); n > tt.atMost {
					t.Fatalf("round %d: %d keys held, want at most %d", round, n, tt.atMost)
				}
				clock.Advance(tt.advance)
			}
		})
	}
}

func TestMemoryBackoffBounded(t *testing.T) {
	ctx := context.Background()
	clock := ratelimittest.NewClock()
	p := ratelimit.BackoffPolicy{Free: 0, Base: time.Second, Max: time.Minute, Window: time.Minute}
	b, err := ratelimit.NewMemoryBackoff(p, ratelimit.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		for i := range 10_000 {
			if _, err := b.Failure(ctx, fmt.Sprintf("user%d-%d@example.com", round, i)); err != nil {
				t.Fatal(err)
			}
		}
		if n := b.Len(); n > 30_000 {
			t.Fatalf("round %d: %d keys held, want at most 30,000", round, n)
		}
		clock.Advance(p.Window) // past both the window and the 2s delay
	}
}

func TestNewBackoffInvalidPolicy(t *testing.T) {
	for _, p := range []ratelimit.BackoffPolicy{
		{},
		{Free: -1, Base: time.Second, Max: time.Minute, Window: time.Hour},
		{Free: 1, Base: 0, Max: time.Minute, Window: time.Hour},
		{Free: 1, Base: time.Minute, Max: time.Second, Window: time.Hour},
		{Free: 1, Base: time.Second, Max: time.Minute, Window: 0},
		{Free: 1, Base: time.Second, Max: 365 * 24 * time.Hour, Window: time.Hour},
	} {
		if _, err := ratelimit.NewMemoryBackoff(p); !errorsIs(err, ratelimit.ErrInvalidPolicy) {
			t.Errorf("NewMemoryBackoff(%+v) err = %v, want ErrInvalidPolicy", p, err)
		}
		if _, err := ratelimit.NewRedisBackoff(nil, p); !errorsIs(err, ratelimit.ErrInvalidPolicy) {
			t.Errorf("NewRedisBackoff(%+v) err = %v, want ErrInvalidPolicy", p, err)
		}
	}
	if err := ratelimit.DefaultBackoffPolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
}

func TestDelayAfter(t *testing.T) {
	p := ratelimit.DefaultBackoffPolicy()
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {5, 0},
		{6, 2 * time.Second}, {7, 4 * time.Second}, {8, 8 * time.Second},
		{14, 512 * time.Second},
		{15, 15 * time.Minute}, // 1024s capped at 900s
		{100, 15 * time.Minute},
		{1 << 40, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := p.DelayAfter(tt.failures); got != tt.want {
			t.Errorf("DelayAfter(%d) = %s, want %s", tt.failures, got, tt.want)
		}
	}
	// A Max that is not a power-of-two multiple of Base is reached exactly.
	odd := ratelimit.BackoffPolicy{Free: 0, Base: 2, Max: 5, Window: time.Hour}
	for k, want := range []time.Duration{0, 4, 5, 5} {
		if got := odd.DelayAfter(k); got != want {
			t.Errorf("odd policy DelayAfter(%d) = %d, want %d", k, got, want)
		}
	}
}
