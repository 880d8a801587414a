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

// checkBatcher sends checks as MGETs of their keys, one MGET on the wire
// at a time: a check that finds no MGET on the wire goes out at once, from
// its own goroutine, so a lone check costs what it would without batching; the
// checks that arrive meanwhile go out together in the next MGET. Under
// load one round trip, one write and one read serve a whole batch, on
// authd's side and on Redis's, and callers wait on a channel instead of
// queueing for a pooled connection.
//
// One sender is what measured best under load: letting a second MGET go
// out beside a light one (always, or only while recent batches were
// light) made concurrent checks dearer (BenchmarkRedisCheckConcurrent)
// and authd's peak memory under many connections higher. Its price is at
// two concurrent checks, where the second waits for the first's round
// trip: one extra round trip of latency (BenchmarkRedisCheck). Figures in
// docs/benchmarks.md, "Figures behind design choices".
type checkBatcher struct {
	mget func(ctx context.Context, keys []string) ([]any, error)

	mu      sync.Mutex
	queue   []*pendingCheck
	sending bool // a goroutine is sending a batch; it takes the queue next
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
// batch, which costs nothing but their lookup; one that sends a batch
// waits for its round trip, which the client's read timeout bounds.
func (b *checkBatcher) do(ctx context.Context, keys []string) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &pendingCheck{keys: keys, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	var batch []*pendingCheck
	if !b.sending {
		b.sending = true
		batch = b.takeLocked()
	}
	b.mu.Unlock()
	if batch != nil {
		// Send the batch holding our check from this goroutine. It holds
		// others' checks too, so our cancellation must not fail it: the
		// client's read timeout bounds it instead. Whatever queued up
		// meanwhile goes to another goroutine, so that we return after
		// one round trip however busy the queue stays.
		bctx := context.WithoutCancel(ctx)
		b.send(bctx, batch)
		if next := b.next(); next != nil {
			go b.drain(bctx, next)
		}
	}
	select {
	case <-p.done:
		return p.vals, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// drain sends batch, then the next ones, until the queue is empty.
func (b *checkBatcher) drain(ctx context.Context, batch []*pendingCheck) {
	for batch != nil {
		b.send(ctx, batch)
		batch = b.next()
	}
}

// next takes the next batch from the queue for the sender that has
// finished one; when the queue is empty it ends the sender's turn and
// returns nil, and the next check sends its own.
func (b *checkBatcher) next() []*pendingCheck {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.sending = false
		return nil
	}
	return b.takeLocked()
}

// takeLocked removes up to maxCheckBatch checks from the head of the
// queue and returns them; b.mu is held.
func (b *checkBatcher) takeLocked() []*pendingCheck {
	n := min(len(b.queue), maxCheckBatch)
	batch := make([]*pendingCheck, n)
	copy(batch, b.queue)
	// Shift rather than reslice, so the queue's array is reused and
	// finished checks are not kept reachable.
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
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
