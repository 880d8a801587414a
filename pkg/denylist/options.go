package denylist

import "time"

// MemoryOption configures a Memory.
type MemoryOption interface {
	applyMemory(*Memory)
}

// RedisOption configures a Redis.
type RedisOption interface {
	applyRedis(*Redis)
}

// Option configures either backend; options common to both have this type
// so that one name, such as WithClock, serves NewMemory and NewRedis.
type Option interface {
	MemoryOption
	RedisOption
}

type memoryOptionFunc func(*Memory)

func (f memoryOptionFunc) applyMemory(m *Memory) { f(m) }

type redisOptionFunc func(*Redis)

func (f redisOptionFunc) applyRedis(r *Redis) { f(r) }

type clockOption func() time.Time

func (c clockOption) applyMemory(m *Memory) { m.now = c }
func (c clockOption) applyRedis(r *Redis)   { r.now = c }

// WithClock sets the clock against which `until` is judged: Memory reads
// it to expire entries; Redis reads it only on writes, to skip a past
// until and to compute the TTL (expiry itself is the server's). Tests
// inject one to reach expiry without sleeping. A nil clock keeps the
// default, time.Now.
func WithClock(now func() time.Time) Option {
	if now == nil {
		now = time.Now
	}
	return clockOption(now)
}

// DefaultSweepInterval is how often, at most, Memory drops expired entries.
const DefaultSweepInterval = time.Minute

// WithSweepInterval sets how long Memory waits between two sweeps of
// expired entries. Sweeps run on writes, so an idle Memory costs nothing;
// memory is bounded by the live entries plus one interval of writes.
// A value <= 0 keeps DefaultSweepInterval.
func WithSweepInterval(d time.Duration) MemoryOption {
	return memoryOptionFunc(func(m *Memory) {
		if d > 0 {
			m.sweepEvery = d
		}
	})
}

// DefaultKeyPrefix is the prefix of every Redis key and of the events
// channel unless WithKeyPrefix says otherwise.
const DefaultKeyPrefix = "authd:dl:"

// WithKeyPrefix sets the prefix of every Redis key and of the events
// channel, so that several deployments (or tests) can share one Redis.
func WithKeyPrefix(prefix string) RedisOption {
	return redisOptionFunc(func(r *Redis) { r.prefix = prefix })
}
