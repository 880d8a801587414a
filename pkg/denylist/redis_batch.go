package denylist

import (
	"context"
	"fmt"
	"sync"
)

// maxCheckBatch bounds how many checks share one MGET (up to three keys
// each): enough to absorb thousands of concurrent requests in a few round
// trips, small enough that one reply stays a few tens of KB.
const maxCheckBatch = 256

// checkBatcher sends the checks that arrive while another is on the wire
// as one MGET of all their keys. A lone check goes out at once, from its
// own goroutine, so batching adds nothing when there is nothing to batch;
// under load, one round trip, one write and one read serve a whole batch,
// on authd's side and on Redis's, and callers wait on a channel instead of
// queueing for a pooled connection.
type checkBatcher struct {
	mget func(ctx context.Context, keys []string) ([]any, error)

	mu      sync.Mutex
	queue   []*pendingCheck
	sending bool // a goroutine is sending a batch; it sends the queue next
}

// pendingCheck is one Check's share of a batch.
type pendingCheck struct {
	keys []string
	vals []any // its keys' values, once done
	err  error
	done chan struct{}
}

// do returns the values of keys, batching them with other callers'
// keys. A caller that gives up (ctx) while waiting leaves its keys in the
// batch, which costs nothing but their lookup; one that leads a batch
// waits for its round trip, which the client's read timeout bounds.
func (b *checkBatcher) do(ctx context.Context, keys []string) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &pendingCheck{keys: keys, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	lead := !b.sending
	b.sending = true
	b.mu.Unlock()
	if lead {
		// Our own batch is sent from this goroutine; whatever queued up
		// meanwhile is handed to another, so that we return after one
		// round trip however long the queue stays busy. The batch holds
		// others' checks too, so our cancellation must not fail it: the
		// client's read timeout bounds it instead.
		bctx := context.WithoutCancel(ctx)
		if b.sendNext(bctx) {
			go b.drain(bctx)
		}
		return p.vals, p.err
	}
	select {
	case <-p.done:
		return p.vals, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// drain sends batches until the queue is empty.
func (b *checkBatcher) drain(ctx context.Context) {
	for b.sendNext(ctx) {
	}
}

// sendNext sends the next batch from the queue and reports whether more
// is queued; when it returns false, no goroutine is sending any more and
// the next caller leads.
func (b *checkBatcher) sendNext(ctx context.Context) (more bool) {
	b.mu.Lock()
	n := min(len(b.queue), maxCheckBatch)
	batch := make([]*pendingCheck, n)
	copy(batch, b.queue)
	// Shift rather than reslice, so the queue's array is reused and
	// finished checks are not kept reachable.
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	b.mu.Unlock()

	b.send(ctx, batch)

	b.mu.Lock()
	defer b.mu.Unlock()
	more = len(b.queue) > 0
	b.sending = more
	return more
}

// send looks up every key of batch in one MGET and gives each check its
// values, or the error.
func (b *checkBatcher) send(ctx context.Context, batch []*pendingCheck) {
	var keys []string
	if len(batch) == 1 {
		keys = batch[0].keys
	} else {
		total := 0
		for _, p := range batch {
			total += len(p.keys)
		}
		keys = make([]string, 0, total)
		for _, p := range batch {
			keys = append(keys, p.keys...)
		}
	}
	vals, err := b.mget(ctx, keys)
	if err == nil && len(vals) != len(keys) {
		err = fmt.Errorf("MGET returned %d values for %d keys", len(vals), len(keys))
	}
	for _, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.vals, vals = vals[:len(p.keys):len(p.keys)], vals[len(p.keys):]
		}
		close(p.done)
	}
}
