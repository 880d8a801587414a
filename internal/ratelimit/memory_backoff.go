package ratelimit

import (
	"context"
	"time"
)

var _ Backoff = (*MemoryBackoff)(nil)

// MemoryBackoff is a Backoff held in the process, for a single replica. It
// is safe for concurrent use, starts no goroutine, and never fails.
type MemoryBackoff struct {
	policy  BackoffPolicy
	now     func() time.Time
	epoch   time.Time
	entries *shards[backoffEntry]
}

// backoffEntry is one key's state; times are since the epoch.
type backoffEntry struct {
	failures int
	last     time.Duration // time of the last failure
	next     time.Duration // no attempt before this
}

// NewMemoryBackoff returns an empty MemoryBackoff enforcing p, or an error
// matching ErrInvalidPolicy.
func NewMemoryBackoff(p BackoffPolicy, opts ...MemoryOption) (*MemoryBackoff, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o := newMemoryOptions(opts)
	window := p.Window
	return &MemoryBackoff{
		policy: p,
		now:    o.now,
		epoch:  o.now(),
		entries: newShards(o.maxKeys, func(e backoffEntry, now time.Duration) bool {
			return now-e.last >= window && e.next <= now
		}),
	}, nil
}

// Failure implements Backoff.
func (b *MemoryBackoff) Failure(_ context.Context, key string) (time.Duration, error) {
	now := b.elapsed()
	sh := b.entries.lock(key)
	defer sh.mu.Unlock()
	e := sh.m[key]
	if now-e.last >= b.policy.Window {
		e.failures = 0
	}
	e.failures++
	e.last = now
	d := b.policy.DelayAfter(e.failures)
	if d > 0 {
		e.next = now + d
	}
	b.entries.store(sh, key, e, now)
	return d, nil
}

// Success implements Backoff.
func (b *MemoryBackoff) Success(_ context.Context, key string) error {
	sh := b.entries.lock(key)
	defer sh.mu.Unlock()
	delete(sh.m, key)
	return nil
}

// Delay implements Backoff.
func (b *MemoryBackoff) Delay(_ context.Context, key string) (time.Duration, error) {
	now := b.elapsed()
	sh := b.entries.lock(key)
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok && e.next > now {
		return e.next - now, nil
	}
	return 0, nil
}

// Len returns the number of keys held, for metrics and tests; keys whose
// state has run out but are not yet swept are included.
func (b *MemoryBackoff) Len() int { return b.entries.len() }

func (b *MemoryBackoff) elapsed() time.Duration { return b.now().Sub(b.epoch) }
