package ratelimit

import (
	"context"
	"time"
)

var _ Limiter = (*Memory)(nil)

// Memory is a Limiter held in the process: exact GCRA in integer
// nanoseconds, one small map entry per active key. It suits a single
// replica; replicas behind one load balancer need Redis, or each would
// grant its own budget. It is safe for concurrent use, starts no
// goroutine, and never fails.
type Memory struct {
	now   func() time.Time
	epoch time.Time
	// tats maps a key to its theoretical arrival time, as time since
	// epoch. A TAT not after now is the same as no entry.
	tats *shards[time.Duration]
}

// NewMemory returns an empty Memory.
func NewMemory(opts ...MemoryOption) *Memory {
	o := newMemoryOptions(opts)
	return &Memory{
		now:   o.now,
		epoch: o.now(),
		tats:  newShards(o.maxKeys, func(tat, now time.Duration) bool { return tat <= now }),
	}
}

// Allow implements Limiter. It takes one shard lock and allocates nothing.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	t := l.interval()
	now := m.now().Sub(m.epoch)
	sh := m.tats.lock(key)
	defer sh.mu.Unlock()
	tat, ok := sh.m[key]
	if !ok || tat < now {
		tat = now
	}
	next := tat + t
	allowAt := next - time.Duration(l.Burst)*t
	if now < allowAt {
		return Result{RetryAfter: allowAt - now}, nil
	}
	m.tats.store(sh, key, next, now)
	return Result{Allowed: true, Remaining: int((now - allowAt) / t)}, nil
}

// Len returns the number of keys held, for metrics and tests; keys back to
// full burst but not yet swept are included.
func (m *Memory) Len() int { return m.tats.len() }
