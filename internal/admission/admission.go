// Package admission bounds how much CPU-bound work, bcrypt above all, runs
// at once in authd, so that a flood of logins queues briefly and is then
// turned away (503 with Retry-After) instead of starving the cheap
// endpoints (/v1/verify, /v1/me, refresh, JWKS) of CPU.
//
// A Gate admits at most N holders at a time and lets at most Q more wait,
// each for at most a bounded time. It is not a rate limiter (that is
// internal/ratelimit, which should refuse abusive clients before they
// reach the gate) and it does not queue fairly between clients: it is one
// FIFO queue for the whole process.
package admission

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// DefaultMaxWait is how long a caller waits for a slot unless told
// otherwise: about two bcrypt computations at cost 12 on a current core.
// Past that, a client is better served by a quick 503 than by a slow login.
const DefaultMaxWait = 500 * time.Millisecond

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

// Gate admits at most MaxConcurrent holders at once and queues at most
// MaxQueue more, first come first served, each for at most MaxWait. It is
// safe for concurrent use and starts no goroutine: a waiter waits in its
// own goroutine, in a channel send, so one that gives up (context done,
// time out) simply leaves the queue and can neither hold nor leak a slot.
type Gate struct {
	limits Limits
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
func New(maxConcurrent, maxQueue int, maxWait time.Duration) *Gate {
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
		slots:  make(chan struct{}, maxConcurrent),
	}
	g.holdNanos.Store(int64(maxWait / 2))
	return g
}

// Acquire waits for a slot and returns the function that frees it; call
// it once the work is done (calling it again does nothing). When every
// slot is held and the queue is full, or no slot frees within MaxWait, it
// returns an error matching ErrOverloaded; when ctx ends first, ctx's
// error. It never leaves a slot held on an error.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		g.canceled.Add(1)
		return nil, err
	}
	select {
	case g.slots <- struct{}{}:
		g.admitted.Add(1)
		return g.holder(), nil
	default:
	}
	if g.queued.Add(1) > int64(g.limits.MaxQueue) {
		g.queued.Add(-1)
		g.queueFull.Add(1)
		return nil, g.overloaded(true)
	}
	start := time.Now()
	timer := time.NewTimer(g.limits.MaxWait)
	defer func() {
		timer.Stop()
		g.queued.Add(-1)
		g.waitNanos.Add(int64(time.Since(start)))
	}()
	select {
	case g.slots <- struct{}{}:
		g.admitted.Add(1)
		return g.holder(), nil
	case <-timer.C:
		g.timedOut.Add(1)
		return nil, g.overloaded(false)
	case <-ctx.Done():
		g.canceled.Add(1)
		return nil, ctx.Err()
	}
}

// holder returns the release function of a slot just taken.
func (g *Gate) holder() func() {
	h := &hold{g: g, start: time.Now()}
	return h.release
}

// hold is one admitted caller's slot.
type hold struct {
	g     *Gate
	start time.Time
	done  atomic.Bool
}

// release frees the slot the first time it is called.
func (h *hold) release() {
	if !h.done.CompareAndSwap(false, true) {
		return
	}
	h.g.recordHold(time.Since(h.start))
	<-h.g.slots
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
}

// Rejected returns the refusals: QueueFull + TimedOut.
func (s Stats) Rejected() uint64 { return s.QueueFull + s.TimedOut }

// Stats returns the gate's counters.
func (g *Gate) Stats() Stats {
	return Stats{
		Admitted:  g.admitted.Load(),
		QueueFull: g.queueFull.Load(),
		TimedOut:  g.timedOut.Load(),
		Canceled:  g.canceled.Load(),
		Wait:      time.Duration(g.waitNanos.Load()),
	}
}
