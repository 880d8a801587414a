package denylist

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Checker = (*Mirror)(nil)

// Errors of a Mirror that cannot answer; all match ErrUnavailable. Built
// once, so that failing closed under load allocates nothing.
var (
	errMirrorNotSynced = fmt.Errorf("%w: revocation mirror not in sync with Redis", ErrUnavailable)
	errMirrorStale     = fmt.Errorf("%w: revocation mirror has not heard from Redis within its staleness bound", ErrUnavailable)
	errMirrorClosed    = fmt.Errorf("%w: revocation mirror closed", ErrUnavailable)
)

// Mirror is a Checker that answers from an in-memory copy of the Redis
// denylist, kept current by the revocation events Redis publishes, so a
// check costs no round trip. It suits services that verify many requests
// per revocation; authd's own logout still writes through Redis.
//
// A background goroutine subscribes to <prefix>events, then copies every
// entry under the prefix (SCAN, then PTTL and GET pipelined) into a fresh
// set, then applies the events that arrived meanwhile and every later one.
// Subscribing before copying means no revocation falls between the two:
// one written before the subscription is in the copy, one written after
// it is delivered as an event, and applying one twice changes nothing
// (later until wins, greater cutoff wins). After any loss of the
// subscription (error, broken or silent connection) the copy is dropped
// and the whole sequence runs again.
//
// Check fails with an error matching ErrUnavailable whenever the mirror
// cannot vouch for its copy: before the first copy is complete, while a
// resynchronisation runs, after Close, and whenever Redis has not
// confirmed within the staleness bound (WithMaxStaleness, default 1s) that
// the mirror has applied everything published. The confirmation is a PING
// on the subscription connection every quarter of the bound: its reply
// comes after every message published before it, so once it arrives all
// revocations written before the PING was sent have been applied. A
// Verifier with FailClosed then answers 503 rather than trust a stale
// copy; see the package doc for the bound.
//
// Mirror is safe for concurrent use. Close it, or end the context given
// to NewMirror, to stop the goroutine; the client stays the caller's.
type Mirror struct {
	cfg     mirrorConfig
	client  redis.UniversalClient
	channel string

	// base is the origin of the monotonic instants below, kept as
	// nanoseconds since base so they fit atomics.
	base  time.Time
	set   atomic.Pointer[Memory] // the copy; nil while out of sync
	fresh atomic.Int64           // send time of the latest PING answered

	life   context.Context // the mirror's own lifetime; Close cancels it
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended

	mu      sync.Mutex
	current []*redis.PubSub // the subscriptions of the running session
	changed chan struct{}   // closed and replaced whenever set or fresh changes
	closed  bool
}

// mirrorConfig is what the MirrorOptions set.
type mirrorConfig struct {
	prefix    string
	layout    Layout
	now       func() time.Time
	staleness time.Duration
	logger    *slog.Logger
}

// NewMirror returns a Mirror of the Redis denylist that client reaches
// (a *redis.Client, a failover client, or a *redis.ClusterClient, whose
// masters are each copied) and starts following it in the background.
// It returns at once: until the first copy is complete Check fails with
// ErrUnavailable; CatchUp waits for it. ctx, which must not be nil, bounds
// the background work as Close does. Give the prefix the writers use
// (WithKeyPrefix). A nil client gives a Mirror that never syncs.
func NewMirror(ctx context.Context, client redis.UniversalClient, opts ...MirrorOption) *Mirror {
	c := mirrorConfig{
		prefix:    DefaultKeyPrefix,
		now:       time.Now,
		staleness: DefaultMaxStaleness,
		logger:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o.applyMirror(&c)
		}
	}
	life, cancel := context.WithCancel(ctx)
	m := &Mirror{
		cfg:     c,
		client:  client,
		channel: c.prefix + "events",
		base:    time.Now(),
		life:    life,
		cancel:  cancel,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	if client == nil {
		close(m.done)
		return m
	}
	go m.run()
	return m
}

// Check implements Checker from memory: no round trip, no allocation. It
// returns an error matching ErrUnavailable while the mirror is not in
// sync or has outlived its staleness bound.
func (m *Mirror) Check(ctx context.Context, t Token) error {
	set := m.set.Load()
	if set == nil {
		return errMirrorNotSynced
	}
	if m.age() > m.cfg.staleness {
		return errMirrorStale
	}
	return set.Check(ctx, t)
}

// Synced reports whether Check currently answers from an up-to-date copy.
func (m *Mirror) Synced() bool {
	return m.set.Load() != nil && m.age() <= m.cfg.staleness
}

// Ping reports whether the mirror is in sync (nil), or why not, with an
// error matching ErrUnavailable, for readiness checks. It makes no round
// trip of its own.
func (m *Mirror) Ping(context.Context) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	switch {
	case closed:
		return errMirrorClosed
	case m.set.Load() == nil:
		return errMirrorNotSynced
	case m.age() > m.cfg.staleness:
		return errMirrorStale
	}
	return nil
}

// CatchUp returns once every revocation whose write completed before the
// call has been applied to the mirror: at start-up it waits for the first
// copy, and a caller that has just revoked a token can wait until its own
// checks see it. It asks Redis for a confirmation at once rather than
// waiting for the next periodic one, so it usually takes one round trip.
// It fails with an error matching ErrUnavailable when ctx ends first or
// the mirror is closed.
func (m *Mirror) CatchUp(ctx context.Context) error {
	target := m.mono()
	asked := false
	for {
		changed := m.watch()
		m.mu.Lock()
		closed, subs := m.closed, m.current
		m.mu.Unlock()
		if closed {
			return errMirrorClosed
		}
		if m.set.Load() != nil {
			if time.Duration(m.fresh.Load()) >= target {
				return nil
			}
			if !asked && len(subs) > 0 {
				// Optional: the periodic confirmation would do, later.
				asked = true
				now := pingPayload(m.mono())
				for _, ps := range subs {
					asked = ps.Ping(ctx, now) == nil && asked
				}
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%w: revocation mirror catch-up: %w", ErrUnavailable, context.Cause(ctx))
		}
	}
}

// Len returns the number of entries in the current copy (0 while out of
// sync), expired ones not yet swept included; it is meant for metrics and
// tests.
func (m *Mirror) Len() int {
	if set := m.set.Load(); set != nil {
		return set.Len()
	}
	return 0
}

// Close stops following Redis and waits for the background goroutine to
// end; Check then fails with ErrUnavailable. Close is idempotent and
// returns nil.
func (m *Mirror) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel() // the session closes its subscription, waking a receive
	<-m.done
	m.set.Store(nil)
	m.notify()
	return nil
}

// mono returns the monotonic time since m.base.
func (m *Mirror) mono() time.Duration { return time.Since(m.base) }

// age is how long ago the latest answered PING was sent: the mirror holds
// every revocation published before then.
func (m *Mirror) age() time.Duration {
	return m.mono() - time.Duration(m.fresh.Load())
}

// watch returns a channel closed at the next change of state.
func (m *Mirror) watch() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// notify wakes every watcher.
func (m *Mirror) notify() {
	m.mu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}
