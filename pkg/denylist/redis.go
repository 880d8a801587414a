package denylist

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
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
	cluster bool // client is a *redis.ClusterClient: MGETs are split by slot
	keys    keys
	prefix  string
	layout  Layout
	channel string
	now     func() time.Time
	script  *redis.Script
	checks  checkBatcher
	acks    replicaAcks              // WithMinReplicasAck
	markers atomic.Pointer[[]string] // generation marker keys (generation.go)
}

// NewRedis returns a Redis denylist using client: a *redis.Client (one
// server, or a failover client of Sentinel) or a *redis.ClusterClient,
// such as pkg/redisurl builds. It does not contact Redis; call Ping to
// learn whether it answers.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *Redis {
	r := &Redis{
		client: client,
		prefix: DefaultKeyPrefix,
		layout: LayoutV1V2,
		now:    time.Now,
		script: redis.NewScript(writeScript),
	}
	for _, o := range opts {
		o.applyRedis(r)
	}
	_, r.cluster = client.(*redis.ClusterClient)
	r.keys = keys{prefix: r.prefix}
	r.channel = r.prefix + "events"
	r.checks.mget = r.mget
	return r
}

// Kinds of entry: the kind part of a v1 key and of a v2 token or session
// key, and the first word of an event.
const (
	kindToken   = "jti"
	kindSession = "sid"
	kindUser    = "sub"
)

// Check implements Checker with one MGET of the token's keys (v2, then v1
// with LayoutV1V2), shared with the checks of other goroutines that arrive
// while one is in flight (see checkBatcher); on Redis Cluster the batch is
// one MGET per slot, pipelined, so one round trip per shard. A Redis error
// is never read as "not revoked": it matches ErrUnavailable and the cause,
// and the caller chooses to fail open or closed.
func (r *Redis) Check(ctx context.Context, t Token) error { return r.check(ctx, t, nil) }

// check is Check reading the keys of extra too, in the same round trip;
// one of them missing is ErrMarkerMissing (see CheckMarked).
func (r *Redis) check(ctx context.Context, t Token, extra []string) error {
	kinds := make([]string, 6+len(extra))
	keys := make([]string, 0, 6+len(extra))
	add := func(kind, key string) {
		kinds[len(keys)] = kind
		keys = append(keys, key)
	}
	for _, k := range extra {
		add(kindMarker, k)
	}
	if t.JTI != "" {
		add(kindToken, r.keys.token(t.Subject, t.JTI))
	}
	if t.SID != "" {
		add(kindSession, r.keys.session(t.Subject, t.SID))
	}
	if t.Subject != "" {
		add(kindUser, r.keys.cutoff(t.Subject))
	}
	if r.layout.readsV1() {
		for _, e := range [3]struct{ kind, id string }{
			{kindToken, t.JTI}, {kindSession, t.SID}, {kindUser, t.Subject},
		} {
			if e.id != "" {
				add(e.kind, r.keys.v1(e.kind, e.id))
			}
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
			if kinds[i] == kindMarker {
				return ErrMarkerMissing
			}
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
func (r *Redis) RevokeToken(ctx context.Context, subject, jti string, until time.Time) error {
	if err := validateIDs("jti", jti); err != nil {
		return err
	}
	ttl, ok := r.ttl(until)
	if !ok {
		return nil
	}
	return r.exec(ctx, "revoke token", r.writes(write{
		key: r.keys.token(subject, jti), value: "1", ttlMS: ttl,
		event: Event{Kind: EventToken, ID: jti, Until: until},
	}, r.keys.v1(kindToken, jti)))
}

// RevokeSessions implements Denylist: one script run per sid (two with
// LayoutV1V2), all in one pipelined round trip (one per shard on Redis
// Cluster).
func (r *Redis) RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error {
	if err := validateIDs("sid", sids...); err != nil {
		return err
	}
	ttl, ok := r.ttl(until)
	if !ok || len(sids) == 0 {
		return nil
	}
	writes := make([]write, 0, 2*len(sids))
	for _, sid := range sids {
		writes = append(writes, r.writes(write{
			key: r.keys.session(subject, sid), value: "1", ttlMS: ttl,
			event: Event{Kind: EventSession, ID: sid, Until: until},
		}, r.keys.v1(kindSession, sid))...)
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
	return r.exec(ctx, "revoke user", r.writes(write{
		key: r.keys.cutoff(subject), value: strconv.FormatInt(cutoff.Unix(), 10), max: true, ttlMS: ttl,
		event: Event{Kind: EventUser, ID: subject, Until: until, Cutoff: cutoff},
	}, r.keys.v1(kindUser, subject)))
}

// writes returns w, the v2 write, and with LayoutV1V2 the same write under
// the v1 key v1Key. Only the v2 write publishes: one event per entry, as
// before, which a mirror of either release reads.
func (r *Redis) writes(w write, v1Key string) []write {
	if !r.layout.readsV1() {
		return []write{w}
	}
	old := w
	old.key, old.silent = v1Key, true
	return []write{w, old}
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
