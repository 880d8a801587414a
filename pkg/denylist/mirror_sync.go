package denylist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mirror timings.
const (
	// subscribeTimeout bounds the wait for Redis to confirm SUBSCRIBE.
	subscribeTimeout = 5 * time.Second
	// minRetry and maxRetry bound the wait between two attempts to sync
	// that failed; after a session that was in sync the first retry is
	// immediate.
	minRetry = 100 * time.Millisecond
	maxRetry = time.Second
	// scanBatch is the COUNT hint of each SCAN; each batch's entries are
	// then read in one pipelined round trip.
	scanBatch = 1000
)

// errNoPong ends a session whose connection has gone silent.
var errNoPong = errors.New("no answer to PING within the staleness bound")

// run keeps a session going until the mirror is closed.
func (m *Mirror) run() {
	defer close(m.done)
	wait := time.Duration(0)
	quiet := false // the current outage has been logged at Warn already
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-m.life.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if m.life.Err() != nil {
			return
		}
		synced, err := m.session()
		m.unsync()
		if m.life.Err() != nil {
			return
		}
		// A session that was in sync starts a new outage: Warn once per
		// outage, then Debug for each failed retry.
		level := slog.LevelWarn
		if quiet && !synced {
			level = slog.LevelDebug
		}
		m.cfg.logger.LogAttrs(m.life, level, "revocation mirror out of sync; checks fail until it resynchronises",
			slog.String("channel", m.channel), slog.Any("error", err))
		quiet = true
		if synced {
			wait = 0
		} else {
			wait = min(max(2*wait, minRetry), maxRetry)
		}
	}
}

// unsync drops the copy: Check fails closed until the next one is ready.
func (m *Mirror) unsync() {
	m.set.Store(nil)
	m.notify()
}

// session subscribes, copies the entries and follows the events until the
// subscription is lost; synced says whether the copy was ever in use.
func (m *Mirror) session() (synced bool, err error) {
	ps := m.client.Subscribe(m.life, m.channel)
	defer ps.Close()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false, errMirrorClosed
	}
	m.current = ps
	m.mu.Unlock()
	// Closing ps wakes a receive in progress when the mirror is closed or
	// its context ends.
	defer context.AfterFunc(m.life, func() { ps.Close() })()
	defer func() {
		m.mu.Lock()
		m.current = nil
		m.mu.Unlock()
	}()

	if err := m.awaitSubscription(ps); err != nil {
		return false, err
	}
	started := time.Now()
	set := NewMemory(WithClock(m.cfg.now))
	if err := m.load(m.life, set); err != nil {
		return false, fmt.Errorf("copy the entries: %w", err)
	}
	return m.follow(ps, set, started)
}

// awaitSubscription waits for Redis to confirm SUBSCRIBE: from then on
// every event is delivered on ps.
func (m *Mirror) awaitSubscription(ps *redis.PubSub) error {
	deadline := time.Now().Add(subscribeTimeout)
	for {
		msg, err := ps.ReceiveTimeout(m.life, m.pingInterval())
		switch {
		case err != nil && isTimeout(err) && time.Now().Before(deadline) && m.life.Err() == nil:
			continue
		case err != nil:
			return fmt.Errorf("subscribe: %w", err)
		}
		if s, ok := msg.(*redis.Subscription); ok && s.Kind == "subscribe" && s.Channel == m.channel {
			return nil
		}
		return fmt.Errorf("subscribe: unexpected %T before the confirmation", msg)
	}
}

// follow applies events to set, which is published for Check once the
// first PING sent after the copy is answered (everything that arrived
// during the copy has then been applied), and keeps confirming freshness
// every pingInterval until the connection fails or goes silent for the
// staleness bound.
func (m *Mirror) follow(ps *redis.PubSub, set *Memory, started time.Time) (synced bool, err error) {
	interval, bound := m.pingInterval(), m.cfg.staleness
	var barrier, lastSent time.Duration
	pending := false // a PING of ours awaits its answer
	send := func() error {
		now := m.mono()
		if err := ps.Ping(m.life, pingPayload(now)); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		lastSent, pending = now, true
		return nil
	}
	if err := send(); err != nil {
		return false, err
	}
	barrier = lastSent
	for {
		if err := m.life.Err(); err != nil {
			return synced, err
		}
		now := m.mono()
		if pending && now-lastSent > bound {
			return synced, errNoPong
		}
		if !pending && now-lastSent >= interval {
			if err := send(); err != nil {
				return synced, err
			}
			continue
		}
		next := lastSent + interval
		if pending {
			next = lastSent + bound
		}
		msg, err := ps.ReceiveTimeout(m.life, max(next-now, time.Millisecond))
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return synced, fmt.Errorf("receive: %w", err)
		}
		switch msg := msg.(type) {
		case *redis.Message:
			if msg.Channel != m.channel {
				continue
			}
			e, err := ParseEvent(msg.Payload)
			if err != nil {
				// Its entry is in Redis: a new copy will have it.
				return synced, fmt.Errorf("unreadable event, copying again: %w", err)
			}
			set.apply(e)
		case *redis.Pong:
			ns, err := strconv.ParseInt(msg.Payload, 10, 64)
			if err != nil {
				continue // not one of ours
			}
			sent := time.Duration(ns)
			if sent == lastSent {
				pending = false
			}
			if sent < barrier {
				continue // cannot happen: nothing pings this connection before the barrier
			}
			if ns > m.fresh.Load() {
				m.fresh.Store(ns)
			}
			if !synced {
				m.set.Store(set)
				synced = true
				m.cfg.logger.LogAttrs(m.life, slog.LevelInfo, "revocation mirror in sync",
					slog.String("channel", m.channel), slog.Int("entries", set.Len()),
					slog.Duration("took", time.Since(started)))
			}
			m.notify()
		case *redis.Subscription:
			// go-redis re-subscribed on a new connection: events may
			// have been lost in between.
			return synced, errors.New("the subscription was renewed on a new connection")
		}
	}
}

// pingInterval is how often freshness is confirmed.
func (m *Mirror) pingInterval() time.Duration { return m.cfg.staleness / 4 }

// pingPayload encodes a PING's send time, which its answer carries back.
func pingPayload(sent time.Duration) string { return strconv.FormatInt(int64(sent), 10) }

// isTimeout reports a read deadline that passed with nothing to read.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// load copies every entry under the prefix into set, from each master of
// a cluster or shard of a ring.
func (m *Mirror) load(ctx context.Context, set *Memory) error {
	switch c := m.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return m.loadNode(ctx, node, set)
		})
	case *redis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
			return m.loadNode(ctx, shard, set)
		})
	default:
		return m.loadNode(ctx, c, set)
	}
}

// loadNode copies the entries of one server: SCAN MATCH <prefix>*, each
// batch's TTLs and cutoffs read in one pipeline. SCAN returns every key
// that exists for the whole scan, which is all a copy needs: a key
// written later is also delivered as an event.
func (m *Mirror) loadNode(ctx context.Context, c redis.Cmdable, set *Memory) error {
	match := globEscape(m.cfg.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, scanBatch).Result()
		if err != nil {
			return fmt.Errorf("SCAN: %w", err)
		}
		if err := m.loadKeys(ctx, c, set, keys); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// loadedKey is one entry being read.
type loadedKey struct {
	kind, id string
	pttl     *redis.DurationCmd
	value    *redis.StringCmd // the cutoff, for kindUser
}

// loadKeys reads the TTL (and cutoff) of each entry among keys in one
// round trip and records it in set. A key gone meanwhile is skipped.
func (m *Mirror) loadKeys(ctx context.Context, c redis.Cmdable, set *Memory, keys []string) error {
	pipe := c.Pipeline()
	entries := make([]loadedKey, 0, len(keys))
	for _, k := range keys {
		kind, id, ok := m.parseKey(k)
		if !ok {
			continue
		}
		e := loadedKey{kind: kind, id: id, pttl: pipe.PTTL(ctx, k)}
		if kind == kindUser {
			e.value = pipe.Get(ctx, k)
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read entries: %w", err)
	}
	now := m.cfg.now()
	for _, e := range entries {
		ttl, err := e.pttl.Result()
		if err != nil {
			return fmt.Errorf("PTTL: %w", err)
		}
		var until time.Time
		switch {
		case ttl == -1: // no expiry (written by hand): keep it for good
			until = now.AddDate(100, 0, 0)
		case ttl <= 0: // -2: gone since SCAN
			continue
		default:
			until = now.Add(ttl) // never before Redis forgets it
		}
		switch e.kind {
		case kindToken:
			set.revoke(set.tokens, e.id, until)
		case kindSession:
			set.revoke(set.sessions, e.id, until)
		case kindUser:
			v, err := e.value.Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return fmt.Errorf("GET: %w", err)
			}
			cutoff, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				// Redis.Check cannot read it either and fails closed
				// for this user; so does the mirror, by refusing every
				// token of the user until the entry expires.
				m.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "revocation mirror: unreadable user cutoff; refusing all of the user's tokens",
					slog.String("key", m.cfg.prefix+kindUser+":"+e.id))
				cutoff = math.MaxInt64
			}
			set.revokeUser(e.id, cutoff, until)
		}
	}
	return nil
}

// parseKey splits <prefix><kind>:<id>; ok is false for any other key.
func (m *Mirror) parseKey(key string) (kind, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, m.cfg.prefix)
	if !ok {
		return "", "", false
	}
	kind, id, ok = strings.Cut(rest, ":")
	if !ok || id == "" || (kind != kindToken && kind != kindSession && kind != kindUser) {
		return "", "", false
	}
	return kind, id, true
}

// globEscape escapes the characters special to Redis glob patterns.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ { // bytewise: keys are binary, not UTF-8
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// apply records one published revocation, under the rules of the keys:
// the later until wins, the greater cutoff wins, a past until is ignored.
func (m *Memory) apply(e Event) {
	switch e.Kind {
	case EventToken:
		m.revoke(m.tokens, e.ID, e.Until)
	case EventSession:
		m.revoke(m.sessions, e.ID, e.Until)
	case EventUser:
		m.revokeUser(e.ID, e.Cutoff.Unix(), e.Until)
	}
}

// revoke records id in entries (m.tokens or m.sessions) until `until`.
func (m *Memory) revoke(entries map[string]time.Time, id string, until time.Time) {
	m.write(until, func(_, until time.Time) { extend(entries, id, until) })
}
