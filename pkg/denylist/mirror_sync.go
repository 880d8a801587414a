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
	"sync"
	"sync/atomic"
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
//
// On Redis Cluster it subscribes on every master: a PUBLISH reaches every
// node over the cluster bus, but only the node that ran it delivers it
// before answering a later PING on the same node, so the staleness bound
// holds only for a node the mirror pings. Each event then arrives once
// per master, which the rules of the entries make harmless; the copy is
// fresh up to the oldest answered PING of all the masters.
func (m *Mirror) session() (synced bool, err error) {
	sctx, stop := context.WithCancel(m.life)
	defer stop()
	nodes, err := m.subscribeNodes(sctx)
	if err != nil {
		return false, err
	}
	// On one server or through Sentinel, note which server process the
	// subscription reaches (see watchServer).
	var runID string
	if _, cluster := m.client.(*redis.ClusterClient); !cluster {
		runID = m.serverRunID(sctx)
	}
	subs := make([]*redis.PubSub, len(nodes))
	for i, c := range nodes {
		subs[i] = c.Subscribe(sctx, m.channel)
	}
	// Closing the subscriptions wakes a receive in progress when the
	// mirror is closed, its context ends or another node's follower fails.
	defer context.AfterFunc(sctx, func() {
		for _, ps := range subs {
			ps.Close()
		}
	})()
	defer func() {
		for _, ps := range subs {
			ps.Close()
		}
	}()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false, errMirrorClosed
	}
	m.current = subs
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.current = nil
		m.mu.Unlock()
	}()

	for _, ps := range subs {
		if err := m.awaitSubscription(sctx, ps); err != nil {
			return false, err
		}
	}
	if runID != "" && m.serverRunID(sctx) != runID {
		return false, errServerChanged
	}
	var switched atomic.Bool
	if runID != "" {
		go m.watchServer(sctx, runID, func() { switched.Store(true); stop() })
	}
	st := &followState{m: m, set: NewMemory(WithClock(m.cfg.now)), started: time.Now(), fresh: make([]int64, len(subs))}
	for i := range st.fresh {
		st.fresh[i] = -1
	}
	if err := m.load(sctx, st.set); err != nil {
		return false, fmt.Errorf("copy the entries: %w", err)
	}
	if len(subs) == 1 {
		err := m.follow(sctx, subs[0], st, 0)
		if switched.Load() {
			err = errServerChanged
		}
		return st.isSynced(), err
	}
	errs := make(chan error, len(subs))
	for i, ps := range subs {
		go func() { errs <- m.follow(sctx, ps, st, i) }()
	}
	err = <-errs // the first follower to stop ends the session
	stop()
	for range len(subs) - 1 {
		<-errs
	}
	return st.isSynced(), err
}

// errServerChanged ends a session whose server is no longer the one the
// client reaches.
var errServerChanged = errors.New("the Redis server changed (failover or restart): subscribing again")

// serverRunID returns the run_id of the server the client's ordinary
// commands reach (the master, through Sentinel), or "" when it cannot
// tell (an error, INFO refused by an ACL).
func (m *Mirror) serverRunID(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.staleness)
	defer cancel()
	info, err := m.client.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "run_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// watchServer calls changed once the server the client's ordinary
// commands reach is no longer the process with runID. Through Sentinel,
// go-redis moves its ordinary connections to a new master at once, but a
// subscription stays where it was: on an old master that still runs
// (until the sentinels reconfigure it, seconds later) it hears nothing of
// the new master's publishes, yet answers PINGs. Checking every ping
// interval bounds that blind spot to about one interval. An unknown
// run_id (an error) proves nothing and is ignored: the PINGs judge
// liveness.
func (m *Mirror) watchServer(ctx context.Context, runID string, changed func()) {
	t := time.NewTicker(m.pingInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := m.serverRunID(ctx); now != "" && now != runID {
			changed()
			return
		}
	}
}

// subscribeNodes returns the clients to subscribe with: every master of a
// cluster, or the client itself.
func (m *Mirror) subscribeNodes(ctx context.Context) ([]redis.UniversalClient, error) {
	c, ok := m.client.(*redis.ClusterClient)
	if !ok {
		return []redis.UniversalClient{m.client}, nil
	}
	var (
		mu    sync.Mutex
		nodes []redis.UniversalClient
	)
	err := c.ForEachMaster(ctx, func(_ context.Context, node *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, node)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the cluster's masters: %w", err)
	}
	if len(nodes) == 0 {
		return nil, errors.New("the cluster has no master")
	}
	return nodes, nil
}

// followState is what the followers of one session share.
type followState struct {
	m       *Mirror
	set     *Memory
	started time.Time

	mu     sync.Mutex
	fresh  []int64 // per subscription, send time of its latest answered PING; -1 before the first
	synced bool
}

// isSynced reports whether the session's copy was ever in use.
func (s *followState) isSynced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// pong records that subscription i answered a PING sent at ns. The copy
// is published for Check once every subscription has answered one sent
// after the copy began, and is fresh up to the oldest of their latest.
func (s *followState) pong(i int, ns int64) {
	m := s.m
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fresh[i] = max(s.fresh[i], ns)
	low := s.fresh[0]
	for _, f := range s.fresh[1:] {
		low = min(low, f)
	}
	if low < 0 {
		return
	}
	if low > m.fresh.Load() {
		m.fresh.Store(low)
	}
	if !s.synced {
		m.set.Store(s.set)
		s.synced = true
		m.cfg.logger.LogAttrs(m.life, slog.LevelInfo, "revocation mirror in sync",
			slog.String("channel", m.channel), slog.Int("entries", s.set.Len()),
			slog.Int("subscriptions", len(s.fresh)), slog.Duration("took", time.Since(s.started)))
	}
	m.notify()
}

// awaitSubscription waits for Redis to confirm SUBSCRIBE: from then on
// every event is delivered on ps.
func (m *Mirror) awaitSubscription(ctx context.Context, ps *redis.PubSub) error {
	deadline := time.Now().Add(subscribeTimeout)
	for {
		msg, err := ps.ReceiveTimeout(ctx, m.pingInterval())
		switch {
		case err != nil && isTimeout(err) && time.Now().Before(deadline) && ctx.Err() == nil:
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

// follow applies the events of subscription i (ps) to the session's copy,
// which is published for Check once the first PING sent after the copy is
// answered on every subscription (everything that arrived during the copy
// has then been applied), and keeps confirming freshness every
// pingInterval until the connection fails or goes silent for the
// staleness bound, or ctx ends.
func (m *Mirror) follow(ctx context.Context, ps *redis.PubSub, st *followState, i int) error {
	interval, bound := m.pingInterval(), m.cfg.staleness
	var barrier, lastSent time.Duration
	pending := false // a PING of ours awaits its answer
	send := func() error {
		now := m.mono()
		if err := ps.Ping(ctx, pingPayload(now)); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		lastSent, pending = now, true
		return nil
	}
	if err := send(); err != nil {
		return err
	}
	barrier = lastSent
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := m.mono()
		if pending && now-lastSent > bound {
			return errNoPong
		}
		if !pending && now-lastSent >= interval {
			if err := send(); err != nil {
				return err
			}
			continue
		}
		next := lastSent + interval
		if pending {
			next = lastSent + bound
		}
		msg, err := ps.ReceiveTimeout(ctx, max(next-now, time.Millisecond))
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		switch msg := msg.(type) {
		case *redis.Message:
			if msg.Channel != m.channel {
				continue
			}
			e, err := ParseEvent(msg.Payload)
			if err != nil {
				// Its entry is in Redis: a new copy will have it.
				return fmt.Errorf("unreadable event, copying again: %w", err)
			}
			st.set.apply(e)
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
			st.pong(i, ns)
		case *redis.Subscription:
			// go-redis re-subscribed on a new connection: events may
			// have been lost in between.
			return errors.New("the subscription was renewed on a new connection")
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
	key     string
	entries []parsedKey // every reading of the key's name
	pttl    *redis.DurationCmd
	value   *redis.StringCmd // the cutoff, when a reading is kindUser
}

// loadKeys reads the TTL (and cutoff) of each entry among keys in one
// round trip and records it in set. A key gone meanwhile is skipped.
func (m *Mirror) loadKeys(ctx context.Context, c redis.Cmdable, set *Memory, keys []string) error {
	pipe := c.Pipeline()
	entries := make([]loadedKey, 0, len(keys))
	names := m.keys()
	for _, k := range keys {
		parsed := names.parse(k, m.cfg.layout)
		if len(parsed) == 0 {
			continue
		}
		e := loadedKey{key: k, entries: parsed, pttl: pipe.PTTL(ctx, k)}
		for _, p := range parsed {
			if p.kind == kindUser {
				e.value = pipe.Get(ctx, k)
				break
			}
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
		for _, p := range e.entries {
			switch p.kind {
			case kindToken:
				set.revoke(set.tokens, p.id, until)
			case kindSession:
				set.revoke(set.sessions, p.id, until)
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
						slog.String("key", e.key))
					cutoff = math.MaxInt64
				}
				set.revokeUser(p.id, cutoff, until)
			}
		}
	}
	return nil
}

// keys returns the key names of the mirror's prefix.
func (m *Mirror) keys() keys { return keys{prefix: m.cfg.prefix} }

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
