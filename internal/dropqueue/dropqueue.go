// Package dropqueue is the bounded hand-off between a request and a
// background worker that must never make the request wait: Offer queues
// or, when the queue is full or closed, drops and counts. The audit
// writer and the mail queue both sit on it, so the drop accounting and
// the send-after-close guard are written once.
//
// It is not a work pool: consumers range over C themselves.
package dropqueue

import (
	"errors"
	"sync"
	"sync/atomic"
)

// Reasons Offer drops an item.
var (
	// ErrFull: the queue held its capacity.
	ErrFull = errors.New("dropqueue: full")
	// ErrClosed: Close had been called.
	ErrClosed = errors.New("dropqueue: closed")
)

// Queue is a bounded FIFO of T, safe for concurrent use.
type Queue[T any] struct {
	ch      chan T
	dropped atomic.Uint64

	mu     sync.RWMutex // guards closed so that Offer never sends on a closed channel
	closed bool
}

// New returns a Queue holding up to capacity items (0: every Offer that
// finds no consumer waiting drops).
func New[T any](capacity int) *Queue[T] {
	return &Queue[T]{ch: make(chan T, max(0, capacity))}
}

// Offer queues v without blocking. When it cannot, it counts the drop and
// returns the total dropped so far, with ErrFull or ErrClosed, so a
// caller can log every Nth drop without a second read racing the count.
func (q *Queue[T]) Offer(v T) (dropped uint64, err error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return q.dropped.Add(1), ErrClosed
	}
	select {
	case q.ch <- v:
		return 0, nil
	default:
		return q.dropped.Add(1), ErrFull
	}
}

// C is what consumers receive from; it is closed by Close once the items
// queued before it are received.
func (q *Queue[T]) C() <-chan T { return q.ch }

// Close stops accepting items; calling it again does nothing.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}

// CountDrop counts an item a consumer received but threw away (a
// shutdown that gave up draining, say) as dropped.
func (q *Queue[T]) CountDrop() { q.dropped.Add(1) }

// Dropped returns how many items were dropped.
func (q *Queue[T]) Dropped() uint64 { return q.dropped.Load() }
