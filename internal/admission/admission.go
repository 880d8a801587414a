// Package admission bounds how much CPU-bound work, bcrypt above all, runs
// at once in authd, so that a flood of logins queues briefly and is then
// turned away (503 with Retry-After) instead of starving the cheap
// endpoints (/v1/verify, /v1/me, refresh, JWKS) of CPU.
//
// A Gate admits at most N holders at a time and lets at most Q more wait,
// each for at most a bounded time. It is not a rate limiter (that is
// internal/ratelimit, which should refuse abusive clients before they
// reach the gate) and it does not queue fairly between clients: it is one
// FIFO queue for the whole process. What it does know of callers is an
// owner (WithOwner: an authenticated user, say): an owner has at most one
// computation admitted or queued at a time, so one caller cannot fill the
// queue that everyone else needs.
package admission

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxWait is how long a caller waits for a slot unless told
// otherwise. A person gladly waits a couple of seconds for a login, and
// the wait must cover an ordinary burst: with the default queue, the last
// of a burst of 4 × the slots waits for three rounds of bcrypt, which at
// cost 12 on a loaded core takes most of a second. Work beyond the queue
// is refused at once, whatever this is.
const DefaultMaxWait = 2 * time.Second

// DefaultMaxConcurrent returns the number of holders a Gate admits unless
// told otherwise: runtime.GOMAXPROCS(0), the CPUs the process may use. It
// equals runtime.NumCPU on a whole machine and, unlike it, follows a
// container's CPU limit (Go ≥ 1.25).
func DefaultMaxConcurrent() int { return runtime.GOMAXPROCS(0) }

// ErrOverloaded is matched by the error of an Acquire refused because the
// gate was full; errors.As gives its *OverloadedError.
var ErrOverloaded = errors.New("admission: overloaded")

// OverloadedError is the error of a refused Acquire.
type OverloadedError struct {
	// RetryAfter is a suggested Retry-After: the time the queue in front
	// of the caller would take to drain, in whole seconds, at least 1s.
	RetryAfter time.Duration
	// QueueFull is true when the caller was refused at once because the
	// queue was full, false when it waited MaxWait in vain.
	QueueFull bool
}

func (e *OverloadedError) Error() string {
	why := "waited too long for a slot"
	if e.QueueFull {
		why = "queue full"
	}
	return fmt.Sprintf("admission: overloaded (%s); retry after %s", why, e.RetryAfter)
}

// Is makes errors.Is(err, ErrOverloaded) true.
func (e *OverloadedError) Is(target error) bool { return target == ErrOverloaded }

// ErrOwnerBusy is the error of an Acquire refused at once because its
// owner (WithOwner) already has a computation admitted or queued.
var ErrOwnerBusy = errors.New("admission: this owner already has a computation in flight")

// ownerKey is the context key of WithOwner.
type ownerKey struct{}

// WithOwner returns ctx carrying owner, whom a Gate lets have one
// computation admitted or queued at a time: an Acquire with ctx while
// another of the same owner is in flight fails at once with ErrOwnerBusy,
// taking neither a slot nor a place in the queue. Callers pass a bounded
// key they authenticated (a user id), never one a client chose freely.
// An empty owner means none.
func WithOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, ownerKey{}, owner)
}

// ownerOf returns ctx's owner, or "".
func ownerOf(ctx context.Context) string {
	o, _ := ctx.Value(ownerKey{}).(string)
	return o
}

// Clock is a Gate's time source: its waits and its hold-time estimate.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a
	// function that stops the timer.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Option configures a Gate.
type Option func(*Gate)

// WithClock makes the Gate read time from c (tests drive waits with it);
// the default is the system clock.
func WithClock(c Clock) Option { return func(g *Gate) { g.clock = c } }

// Gate admits at most MaxConcurrent holders at once and queues at most
// MaxQueue more, first come first served, each for at most MaxWait. It is
// safe for concurrent use and starts no goroutine: a waiter waits in its
// own goroutine, in a channel send, so one that gives up (context done,
// time out) simply leaves the queue and can neither hold nor leak a slot.
type Gate struct {
	limits Limits
	clock  Clock
	// slots is the semaphore: a holder has sent one value into it. Go
	// wakes blocked senders in arrival order, and hands a freed slot
	// straight to the first of them, so the queue is FIFO and a newcomer
	// cannot overtake it.
	slots  chan struct{}
	queued atomic.Int64

	admitted, queueFull, timedOut, canceled atomic.Uint64
	waitNanos                               atomic.Int64
	// holdNanos is a moving average of how long a slot is held, from
	// which RetryAfter is estimated.
	holdNanos atomic.Int64

	// owners holds the owners with a computation admitted or queued; it
	// is bounded by the slots and the queue.
	mu        sync.Mutex
	owners    map[string]struct{}
	ownerBusy atomic.Uint64
}

// Limits are a Gate's bounds.
type Limits struct {
	MaxConcurrent int
	MaxQueue      int
	MaxWait       time.Duration
}

// New returns a Gate admitting maxConcurrent holders at once, with at most
// maxQueue waiters, each waiting at most maxWait. maxConcurrent ≤ 0 means
// DefaultMaxConcurrent(); maxQueue < 0 means 4×maxConcurrent, and 0 means
// no queue (refuse at once when all slots are held); maxWait ≤ 0 means
// DefaultMaxWait.
func New(maxConcurrent, maxQueue int, maxWait time.Duration, opts ...Option) *Gate {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrent()
	}
	if maxQueue < 0 {
		maxQueue = 4 * maxConcurrent
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	g := &Gate{
		limits: Limits{MaxConcurrent: maxConcurrent, MaxQueue: maxQueue, MaxWait: maxWait},
		clock:  systemClock{},
		slots:  make(chan struct{}, maxConcurrent),
		owners: make(map[string]struct{}),
	}
	for _, o := range opts {
		o(g)
	}
	g.holdNanos.Store(int64(maxWait / 2))
	return g
}

// Acquire waits for a slot and returns the function that frees it; call
// it once the work is done (calling it again does nothing). When every
// slot is held and the queue is full, or no slot frees within MaxWait, it
// returns an error matching ErrOverloaded; when ctx ends first, ctx's
// error; when ctx's owner (WithOwner) already has a computation in flight,
// ErrOwnerBusy at once. It never leaves a slot held on an error.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		g.canceled.Add(1)
		return nil, err
	}
	owner := ownerOf(ctx)
	if owner != "" {
		if !g.claim(owner) {
			g.ownerBusy.Add(1)
			return nil, ErrOwnerBusy
		}
		defer func() {
			if err != nil {
				g.unclaim(owner)
			}
		}()
	}
	select {
	case g.slots <- struct{}{}:
		g.admitted.Add(1)
		return g.holder(owner), nil
	default:
	}
	if g.queued.Add(1) > int64(g.limits.MaxQueue) {
		g.queued.Add(-1)
		g.queueFull.Add(1)
		return nil, g.overloaded(true)
	}
	start := g.clock.Now()
	expired, stop := g.clock.NewTimer(g.limits.MaxWait)
	defer func() {
		stop()
		g.queued.Add(-1)
		g.waitNanos.Add(int64(g.clock.Now().Sub(start)))
	}()
	select {
	case g.slots <- struct{}{}:
		g.admitted.Add(1)
		return g.holder(owner), nil
	case <-expired:
		g.timedOut.Add(1)
		return nil, g.overloaded(false)
	case <-ctx.Done():
		g.canceled.Add(1)
		return nil, ctx.Err()
	}
}

// claim marks owner in flight, or reports false if it already was.
func (g *Gate) claim(owner string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.owners[owner]; busy {
		return false
	}
	g.owners[owner] = struct{}{}
	return true
}

// unclaim marks owner no longer in flight.
func (g *Gate) unclaim(owner string) {
	g.mu.Lock()
	delete(g.owners, owner)
	g.mu.Unlock()
}

// holder returns the release function of a slot just taken by owner
// ("" for none).
func (g *Gate) holder(owner string) func() {
	h := &hold{g: g, owner: owner, start: g.clock.Now()}
	return h.release
}

// hold is one admitted caller's slot.
type hold struct {
	g     *Gate
	owner string
	start time.Time
	done  atomic.Bool
}

// release frees the slot, and then the owner's claim, the first time it is
// called.
func (h *hold) release() {
	if !h.done.CompareAndSwap(false, true) {
		return
	}
	h.g.recordHold(h.g.clock.Now().Sub(h.start))
	<-h.g.slots
	if h.owner != "" {
		h.g.unclaim(h.owner)
	}
}

// recordHold folds d into the moving average of hold times (weight 1/8).
func (g *Gate) recordHold(d time.Duration) {
	for {
		old := g.holdNanos.Load()
		if g.holdNanos.CompareAndSwap(old, old+(int64(d)-old)/8) {
			return
		}
	}
}

// overloaded builds the refusal, estimating how long the work now held
// and queued would take to drain.
func (g *Gate) overloaded(queueFull bool) error {
	n := int64(g.limits.MaxConcurrent)
	ahead := g.queued.Load() + n
	drain := time.Duration(g.holdNanos.Load() * ahead / n)
	retry := max(time.Second, (drain + time.Second - 1).Truncate(time.Second))
	return &OverloadedError{RetryAfter: retry, QueueFull: queueFull}
}

// InFlight returns the number of slots held now.
func (g *Gate) InFlight() int { return len(g.slots) }

// Queued returns the number of callers waiting for a slot now.
func (g *Gate) Queued() int { return int(g.queued.Load()) }

// Limits returns the gate's bounds, defaults resolved.
func (g *Gate) Limits() Limits { return g.limits }

// Stats are a Gate's cumulative counters since New, for metrics.
type Stats struct {
	// Admitted counts Acquire calls that got a slot.
	Admitted uint64
	// QueueFull counts refusals because the queue was full.
	QueueFull uint64
	// TimedOut counts refusals after waiting MaxWait.
	TimedOut uint64
	// Canceled counts callers whose context ended before they got a
	// slot, including those whose context had ended before Acquire.
	Canceled uint64
	// Wait is the total time callers spent in the queue, whatever the
	// outcome; callers admitted at once add nothing.
	Wait time.Duration
	// OwnerBusy counts refusals because the caller's owner already had a
	// computation in flight (not counted in Rejected: the gate had room).
	OwnerBusy uint64
}

// Rejected returns the refusals for want of room: QueueFull + TimedOut.
func (s Stats) Rejected() uint64 { return s.QueueFull + s.TimedOut }

// Stats returns the gate's counters.
func (g *Gate) Stats() Stats {
	return Stats{
		Admitted:  g.admitted.Load(),
		QueueFull: g.queueFull.Load(),
		TimedOut:  g.timedOut.Load(),
		Canceled:  g.canceled.Load(),
		Wait:      time.Duration(g.waitNanos.Load()),
		OwnerBusy: g.ownerBusy.Load(),
	}
}
