package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Backoff = (*RedisBackoff)(nil)

// RedisBackoff is a Backoff kept in Redis, shared by every replica. Each
// method is one round trip: Failure one script run, Delay one PTTL,
// Success one DEL. Time is the server's. It is safe for concurrent use;
// the client stays the caller's to close.
type RedisBackoff struct {
	client redis.UniversalClient
	prefix string
	script *redis.Script
	// args are the policy as the script's ARGV: window, free, base and
	// max, durations in whole milliseconds rounded up.
	args []any
}

// failureScript counts a failure and sets the wait key when the count is
// past the free ones. Being a script makes the count and the wait one
// atomic step, so concurrent failures each get their own count. It touches
// two keys of one hash slot and uses nothing newer than Redis 2.6.12.
//
// KEYS[1]: failure count; KEYS[2]: wait marker.
// ARGV[1]: window ms; ARGV[2]: free; ARGV[3]: base ms; ARGV[4]: max ms.
// Returns {failures, delay ms}.
const failureScript = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over <= 0 then
  return {n, 0}
end
local maxms = tonumber(ARGV[4])
local d = maxms
if over < 64 then
  d = math.min(tonumber(ARGV[3]) * 2 ^ over, maxms)
end
redis.call('SET', KEYS[2], '1', 'PX', d)
return {n, d}
`

// NewRedisBackoff returns a RedisBackoff enforcing p with client, or an
// error matching ErrInvalidPolicy. It does not contact Redis.
func NewRedisBackoff(client redis.UniversalClient, p BackoffPolicy, opts ...RedisOption) (*RedisBackoff, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o := newRedisOptions(opts)
	return &RedisBackoff{
		client: client,
		prefix: o.prefix,
		script: redis.NewScript(failureScript),
		args:   []any{ceilMS(p.Window), p.Free, ceilMS(p.Base), ceilMS(p.Max)},
	}, nil
}

// keys returns the failure-count and wait keys of key.
func (b *RedisBackoff) keys(key string) []string {
	base := b.prefix + "backoff:{" + key + "}:"
	return []string{base + "fails", base + "wait"}
}

// Failure implements Backoff.
func (b *RedisBackoff) Failure(ctx context.Context, key string) (time.Duration, error) {
	v, err := b.script.Run(ctx, b.client, b.keys(key), b.args...).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("%w: backoff failure: %w", ErrUnavailable, err)
	}
	if len(v) != 2 {
		return 0, fmt.Errorf("%w: backoff failure: script returned %d values", ErrUnavailable, len(v))
	}
	return time.Duration(v[1]) * time.Millisecond, nil
}

// Success implements Backoff.
func (b *RedisBackoff) Success(ctx context.Context, key string) error {
	if err := b.client.Del(ctx, b.keys(key)...).Err(); err != nil {
		return fmt.Errorf("%w: backoff success: %w", ErrUnavailable, err)
	}
	return nil
}

// Delay implements Backoff.
func (b *RedisBackoff) Delay(ctx context.Context, key string) (time.Duration, error) {
	d, err := b.client.PTTL(ctx, b.keys(key)[1]).Result()
	if err != nil {
		return 0, fmt.Errorf("%w: backoff delay: %w", ErrUnavailable, err)
	}
	// -2 (no key) and -1 (no expiry, which the script never writes) are
	// returned as negative durations: no wait.
	return max(d, 0), nil
}

// ceilMS returns d in whole milliseconds, rounded up.
func ceilMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
