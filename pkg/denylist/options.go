package denylist

import (
	"log/slog"
	"time"
)

// MemoryOption configures a Memory.
type MemoryOption interface {
	applyMemory(*Memory)
}

// RedisOption configures a Redis.
type RedisOption interface {
	applyRedis(*Redis)
}

// MirrorOption configures a Mirror.
type MirrorOption interface {
	applyMirror(*mirrorConfig)
}

// Option configures any of Memory, Redis and Mirror; options common to
// them have this type so that one name, such as WithClock, serves
// NewMemory, NewRedis and NewMirror.
type Option interface {
	MemoryOption
	RedisOption
	MirrorOption
}

// RedisMirrorOption configures a Redis or a Mirror: the two read the same
// key layout and events channel.
type RedisMirrorOption interface {
	RedisOption
	MirrorOption
}

type mirrorOptionFunc func(*mirrorConfig)

func (f mirrorOptionFunc) applyMirror(c *mirrorConfig) { f(c) }

type memoryOptionFunc func(*Memory)

func (f memoryOptionFunc) applyMemory(m *Memory) { f(m) }

type redisOptionFunc func(*Redis)

func (f redisOptionFunc) applyRedis(r *Redis) { f(r) }

type clockOption func() time.Time

func (c clockOption) applyMemory(m *Memory)       { m.now = c }
func (c clockOption) applyRedis(r *Redis)         { r.now = c }
func (c clockOption) applyMirror(m *mirrorConfig) { m.now = c }

// WithClock sets the clock against which `until` is judged: Memory and
// Mirror read it to expire entries (Mirror also to turn the TTLs it loads
// into untils); Redis reads it only on writes, to skip a past until and to
// compute the TTL (expiry itself is the server's). Tests inject one to
// reach expiry without sleeping. A Mirror's staleness bound is measured
// on the real monotonic clock, never this one. A nil clock keeps the
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
// channel, so that several deployments (or tests) can share one Redis. A
// Mirror must be given the prefix its writers use.
func WithKeyPrefix(prefix string) RedisMirrorOption {
	return keyPrefixOption(prefix)
}

type keyPrefixOption string

func (p keyPrefixOption) applyRedis(r *Redis)         { r.prefix = string(p) }
func (p keyPrefixOption) applyMirror(c *mirrorConfig) { c.prefix = string(p) }

// DefaultMaxStaleness is a Mirror's staleness bound unless
// WithMaxStaleness says otherwise.
const DefaultMaxStaleness = time.Second

// WithMaxStaleness sets a Mirror's staleness bound (default
// DefaultMaxStaleness): Check fails with ErrUnavailable unless Redis has
// confirmed, within the bound, that every revocation published before
// that confirmation has been applied. The mirror asks for a confirmation
// (a PING on its subscription connection) every quarter of the bound, and
// drops the connection and resynchronises when one takes longer than the
// bound. A value <= 0 keeps the default.
func WithMaxStaleness(d time.Duration) MirrorOption {
	return mirrorOptionFunc(func(c *mirrorConfig) {
		if d > 0 {
			c.staleness = d
		}
	})
}

// WithLogger sets the logger of a Mirror, which reports losing and
// regaining sync and events it cannot read (default: discard). Nothing
// is logged per check.
func WithLogger(l *slog.Logger) MirrorOption {
	return mirrorOptionFunc(func(c *mirrorConfig) {
		if l != nil {
			c.logger = l
		}
	})
}
