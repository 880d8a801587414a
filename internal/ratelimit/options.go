package ratelimit

import "time"

// MemoryOption configures Memory and MemoryBackoff.
type MemoryOption func(*memoryOptions)

type memoryOptions struct {
	now     func() time.Time
	maxKeys int
}

func newMemoryOptions(opts []MemoryOption) memoryOptions {
	o := memoryOptions{now: time.Now, maxKeys: DefaultMaxKeys}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock sets the clock an in-process limiter or backoff reads; tests
// inject one to move time without sleeping. Only differences between its
// readings matter. A nil clock keeps time.Now.
func WithClock(now func() time.Time) MemoryOption {
	return func(o *memoryOptions) {
		if now != nil {
			o.now = now
		}
	}
}

// DefaultMaxKeys is how many keys an in-process limiter or backoff holds
// at most unless WithMaxKeys says otherwise: about 27 MB for a Memory
// with keys of 40 bytes (14 MB of map, the rest the keys).
const DefaultMaxKeys = 1 << 18

// WithMaxKeys bounds the keys held in process to about n (rounded up to a
// multiple of the shard count). Keys whose state has run out (a limiter
// key back to full burst, a backoff key past its window and delay) are
// dropped first; if n are still live, arbitrary keys are dropped, which
// hands them a fresh budget: memory stays bounded under a flood of new
// keys at the cost of failing open for some of them. n ≤ 0 keeps
// DefaultMaxKeys.
func WithMaxKeys(n int) MemoryOption {
	return func(o *memoryOptions) {
		if n > 0 {
			o.maxKeys = n
		}
	}
}

// RedisOption configures Redis and RedisBackoff.
type RedisOption func(*redisOptions)

type redisOptions struct {
	prefix string
}

func newRedisOptions(opts []RedisOption) redisOptions {
	o := redisOptions{prefix: DefaultKeyPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// DefaultKeyPrefix is the prefix of authd's rate-limit keys in Redis.
const DefaultKeyPrefix = "authd:rl:"

// WithKeyPrefix sets the prefix of every Redis key (see the package doc
// for the layout), so that deployments or tests can share one Redis.
func WithKeyPrefix(prefix string) RedisOption {
	return func(o *redisOptions) { o.prefix = prefix }
}
