package denylist

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Denylist = (*Redis)(nil)

// Redis is a Denylist kept in Redis, shared by every authd replica and by
// the services that verify authd's tokens. The key layout and the events
// it publishes are documented in the package doc; they are a contract.
// It is safe for concurrent use; the client stays the caller's to close.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	channel string
	now     func() time.Time
	script  *redis.Script
	checks  checkBatcher
}

// NewRedis returns a Redis denylist using client. It does not contact Redis;
// call Ping to learn whether it answers.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *Redis {
	r := &Redis{
		client: client,
		prefix: DefaultKeyPrefix,
		now:    time.Now,
		script: redis.NewScript(writeScript),
	}
	for _, o := range opts {
		o.applyRedis(r)
	}
	r.channel = r.prefix + "events"
	r.checks.mget = func(ctx context.Context, keys []string) ([]any, error) {
		return r.client.MGet(ctx, keys...).Result()
	}
	return r
}

// Kinds of key, also the middle part of each key's name.
const (
	kindToken   = "jti"
	kindSession = "sid"
	kindUser    = "sub"
)

// key returns the Redis key of one entry: <prefix><kind>:<id>.
func (r *Redis) key(kind, id string) string {
	return r.prefix + kind + ":" + id
}

// Check implements Checker with one MGET of the token's keys, shared with
// the checks of other goroutines that arrive while one is in flight (see
// checkBatcher). A Redis error is never read as "not revoked": it matches
// ErrUnavailable and the cause, and the caller chooses to fail open or
// closed.
func (r *Redis) Check(ctx context.Context, t Token) error {
	var kinds [3]string
	keys := make([]string, 0, 3)
	for _, e := range [3]struct{ kind, id string }{
		{kindToken, t.JTI}, {kindSession, t.SID}, {kindUser, t.Subject},
	} {
		if e.id != "" {
			kinds[len(keys)] = e.kind
			keys = append(keys, r.key(e.kind, e.id))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	vals, err := r.checks.do(ctx, keys)
	if err != nil {
		return fmt.Errorf("%w: check: %w", ErrUnavailable, err)
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		switch kinds[i] {
		case kindToken:
			return errTokenRevoked
		case kindSession:
			return errSessionRevoked
		case kindUser:
			s, _ := v.(string)
			cutoff, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				// Unreadable, so it may be a revocation: not "not revoked".
				return fmt.Errorf("%w: check: corrupt cutoff at %s: %w", ErrUnavailable, keys[i], err)
			}
			if cutoffRevokes(cutoff, t.IssuedAt) {
				return errUserRevoked
			}
		}
	}
	return nil
}

// RevokeToken implements Denylist.
func (r *Redis) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	if err := validateIDs("jti", jti); err != nil {
		return err
	}
	ttl, ok := r.ttl(until)
	if !ok {
		return nil
	}
	return r.exec(ctx, "revoke token", []write{{
		key: r.key(kindToken, jti), value: "1", ttlMS: ttl,
		event: Event{Kind: EventToken, ID: jti, Until: until},
	}})
}

// RevokeSessions implements Denylist: one script run per sid, all in one
// pipelined round trip.
func (r *Redis) RevokeSessions(ctx context.Context, sids []string, until time.Time) error {
	if err := validateIDs("sid", sids...); err != nil {
		return err
	}
	ttl, ok := r.ttl(until)
	if !ok || len(sids) == 0 {
		return nil
	}
	writes := make([]write, len(sids))
	for i, sid := range sids {
		writes[i] = write{
			key: r.key(kindSession, sid), value: "1", ttlMS: ttl,
			event: Event{Kind: EventSession, ID: sid, Until: until},
		}
	}
	return r.exec(ctx, "revoke sessions", writes)
}

// RevokeUserBefore implements Denylist. The script keeps the greater of the
// stored and the new cutoff and the later expiry, atomically.
func (r *Redis) RevokeUserBefore(ctx context.Context, subject string, cutoff, until time.Time) error {
	if err := validateIDs("subject", subject); err != nil {
		return err
	}
	ttl, ok := r.ttl(until)
	if !ok {
		return nil
	}
	return r.exec(ctx, "revoke user", []write{{
		key: r.key(kindUser, subject), value: strconv.FormatInt(cutoff.Unix(), 10), max: true, ttlMS: ttl,
		event: Event{Kind: EventUser, ID: subject, Until: until, Cutoff: cutoff},
	}})
}

// Ping implements Denylist.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: ping: %w", ErrUnavailable, err)
	}
	return nil
}

// ttl returns until − now in whole milliseconds, rounded up so that an
// entry never expires before until; ok is false when until is not in the
// future, as such an entry would refuse nothing.
func (r *Redis) ttl(until time.Time) (ms int64, ok bool) {
	d := until.Sub(r.now())
	if d <= 0 {
		return 0, false
	}
	ms = int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++ // dividing first: until.Sub saturates, d + 1ms could overflow
	}
	return min(ms, maxTTLms), true
}
