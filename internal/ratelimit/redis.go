package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

var _ Limiter = (*Redis)(nil)

// Redis is a Limiter kept in Redis, shared by every replica, built on
// github.com/go-redis/redis_rate: one script run (EVALSHA) per Allow, on
// the server's clock. It is safe for concurrent use; the client stays the
// caller's to close.
type Redis struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewRedis returns a Redis limiter using client. It does not contact Redis.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *Redis {
	o := newRedisOptions(opts)
	return &Redis{limiter: redis_rate.NewLimiter(client), prefix: o.prefix}
}

// Allow implements Limiter. A Redis failure returns an error matching
// ErrUnavailable and its cause, never a verdict.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	res, err := r.limiter.Allow(ctx, r.prefix+key, redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst})
	if err != nil {
		return Result{}, fmt.Errorf("%w: allow: %w", ErrUnavailable, err)
	}
	if res.Allowed == 0 {
		return Result{RetryAfter: max(res.RetryAfter, 0)}, nil
	}
	return Result{Allowed: true, Remaining: remaining(l, res.ResetAfter)}, nil
}

// remaining recomputes Remaining from the time until the key is back to
// full burst (resetAfter = TAT − now, so Remaining = Burst − resetAfter/T).
// redis_rate's own Remaining is a float truncated by Redis, and one less
// than the truth whenever rounding leaves it a hair below a whole number
// (as with 5 events per 500ms); a microsecond of tolerance, the resolution
// of Redis's clock, absorbs that.
func remaining(l Limit, resetAfter time.Duration) int {
	t := l.interval()
	n := int((time.Duration(l.Burst)*t - resetAfter + time.Microsecond) / t)
	return min(max(n, 0), l.Burst-1)
}
