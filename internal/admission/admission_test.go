package admission_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/admission"
)

// acquire fails the test unless a slot is granted.
func acquire(t *testing.T, g *admission.Gate) func() {
	t.Helper()
	release, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return release
}

// waitFor polls cond until it holds or five seconds have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// blockedInAcquire counts the goroutines blocked in Gate.Acquire's wait
// for a slot.
func blockedInAcquire() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[select") && strings.Contains(g, "admission.(*Gate).Acquire(") {
			n++
		}
	}
	return n
}

// raise sets peak to v if v is greater.
func raise(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// expectIdle checks that nothing is held or queued and that all N slots
// can be taken at once, without waiting: no slot leaked.
func expectIdle(t *testing.T, g *admission.Gate) {
	t.Helper()
	if n, q := g.InFlight(), g.Queued(); n != 0 || q != 0 {
		t.Fatalf("InFlight = %d, Queued = %d; want 0, 0", n, q)
	}
	n := g.Limits().MaxConcurrent
	releases := make([]func(), 0, n)
	before := g.Stats().Wait
	for range n {
		releases = append(releases, acquire(t, g))
	}
	if g.Stats().Wait != before {
		t.Fatalf("taking %d free slots waited: a slot leaked", n)
	}
	for _, r := range releases {
		r()
	}
}

func TestDefaults(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	tests := []struct {
		name                 string
		maxConcurrent, queue int
		maxWait              time.Duration
		want                 admission.Limits
	}{
		{"all defaults", 0, -1, 0, admission.Limits{MaxConcurrent: n, MaxQueue: 4 * n, MaxWait: admission.DefaultMaxWait}},
		{"queue follows concurrency", 3, -1, time.Second, admission.Limits{MaxConcurrent: 3, MaxQueue: 12, MaxWait: time.Second}},
		{"no queue", 2, 0, -1, admission.Limits{MaxConcurrent: 2, MaxQueue: 0, MaxWait: admission.DefaultMaxWait}},
		{"explicit", 8, 5, 10 * time.Millisecond, admission.Limits{MaxConcurrent: 8, MaxQueue: 5, MaxWait: 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := admission.New(tt.maxConcurrent, tt.queue, tt.maxWait).Limits(); got != tt.want {
				t.Fatalf("Limits() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestNeverMoreThanN: many goroutines through a gate of 4 never hold more
// than 4 slots at once, and all get through.
func TestNeverMoreThanN(t *testing.T) {
	const n, workers = 4, 200
	g := admission.New(n, workers, 10*time.Second)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			release, err := g.Acquire(context.Background())
			if err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			raise(&peak, cur.Add(1))
			time.Sleep(100 * time.Microsecond)
			cur.Add(-1)
			release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > n {
		t.Fatalf("peak concurrency %d, want at most %d", p, n)
	}
	if s := g.Stats(); s.Admitted != workers || s.Rejected() != 0 {
		t.Fatalf("Stats = %+v, want %d admitted and none rejected", s, workers)
	}
	expectIdle(t, g)
}

// TestQueueFull: with every slot held and the queue full, Acquire refuses
// at once, saying so.
func TestQueueFull(t *testing.T) {
	tests := []struct {
		name  string
		queue int
	}{
		{"queue of two", 2},
		{"no queue", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := admission.New(1, tt.queue, 10*time.Second)
			release := acquire(t, g)
			var wg sync.WaitGroup
			for range tt.queue {
				wg.Go(func() {
					if r, err := g.Acquire(context.Background()); err == nil {
						r()
					} else {
						t.Errorf("queued Acquire: %v", err)
					}
				})
			}
			waitFor(t, "the queue is full", func() bool { return g.Queued() == tt.queue })

			start := time.Now()
			r, err := g.Acquire(context.Background())
			elapsed := time.Since(start)
			var oe *admission.OverloadedError
			if r != nil || !errors.Is(err, admission.ErrOverloaded) || !errors.As(err, &oe) || !oe.QueueFull {
				t.Fatalf("Acquire = %v, %v; want ErrOverloaded with QueueFull", r != nil, err)
			}
			if elapsed > 50*time.Millisecond {
				t.Errorf("refusal took %s, want immediate", elapsed)
			}
			if oe.RetryAfter < time.Second || oe.RetryAfter%time.Second != 0 {
				t.Errorf("RetryAfter = %s, want whole seconds, at least 1s", oe.RetryAfter)
			}
			release()
			wg.Wait()
			if s := g.Stats(); s.QueueFull != 1 || s.Admitted != uint64(1+tt.queue) {
				t.Errorf("Stats = %+v, want 1 queue-full refusal and %d admitted", s, 1+tt.queue)
			}
			expectIdle(t, g)
		})
	}
}

// TestWaitTimeout: a waiter gives up after MaxWait with ErrOverloaded and
// leaves the queue.
func TestWaitTimeout(t *testing.T) {
	const maxWait = 50 * time.Millisecond
	g := admission.New(1, 1, maxWait)
	release := acquire(t, g)
	start := time.Now()
	r, err := g.Acquire(context.Background())
	elapsed := time.Since(start)
	var oe *admission.OverloadedError
	if r != nil || !errors.As(err, &oe) || oe.QueueFull || !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("Acquire = %v, %v; want ErrOverloaded after waiting", r != nil, err)
	}
	if elapsed < maxWait || elapsed > maxWait+time.Second {
		t.Errorf("waited %s, want about %s", elapsed, maxWait)
	}
	if q := g.Queued(); q != 0 {
		t.Errorf("Queued = %d after the timeout, want 0", q)
	}
	if s := g.Stats(); s.TimedOut != 1 || s.Wait < maxWait {
		t.Errorf("Stats = %+v, want 1 timeout and Wait ≥ %s", s, maxWait)
	}
	release()
	expectIdle(t, g)
}

// TestContextDone: a waiter whose context ends leaves the queue with the
// context's error, and a context already done takes no free slot.
func TestContextDone(t *testing.T) {
	t.Run("while queued", func(t *testing.T) {
		g := admission.New(1, 1, 10*time.Second)
		release := acquire(t, g)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			r, err := g.Acquire(ctx)
			if r != nil {
				r()
			}
			done <- err
		}()
		waitFor(t, "the waiter is queued", func() bool { return g.Queued() == 1 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, admission.ErrOverloaded) {
			t.Fatalf("err = %v, want context.Canceled only", err)
		}
		if s := g.Stats(); s.Canceled != 1 || s.Rejected() != 0 {
			t.Errorf("Stats = %+v, want 1 canceled, 0 rejected", s)
		}
		release()
		expectIdle(t, g)
	})
	t.Run("deadline before MaxWait", func(t *testing.T) {
		g := admission.New(1, 1, 10*time.Second)
		release := acquire(t, g)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := g.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		release()
		expectIdle(t, g)
	})
	t.Run("already done", func(t *testing.T) {
		g := admission.New(1, 1, time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if r, err := g.Acquire(ctx); r != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire = %v, %v; want context.Canceled and no slot", r != nil, err)
		}
		expectIdle(t, g)
	})
}

// TestReleaseIdempotent: releasing twice frees one slot, not two.
func TestReleaseIdempotent(t *testing.T) {
	g := admission.New(2, 0, time.Second)
	r1 := acquire(t, g)
	r2 := acquire(t, g)
	r1()
	r1()
	if n := g.InFlight(); n != 1 {
		t.Fatalf("InFlight = %d after releasing one slot twice, want 1", n)
	}
	r3 := acquire(t, g)
	if _, err := g.Acquire(context.Background()); !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("a third holder was admitted at capacity 2: err = %v", err)
	}
	r2()
	r3()
	r3()
	expectIdle(t, g)
}

// TestFIFO: waiters get the slot in the order they queued, so none starves.
func TestFIFO(t *testing.T) {
	const waiters = 20
	g := admission.New(1, waiters, 10*time.Second)
	release := acquire(t, g)
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := range waiters {
		wg.Go(func() {
			r, err := g.Acquire(context.Background())
			if err != nil {
				t.Errorf("waiter %d: %v", i, err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			r()
		})
		// Queue them one at a time, so arrival order is known. Queued counts
		// a waiter just before it blocks on the slot channel, whose waiters
		// are served in order; wait until it has blocked there.
		waitFor(t, "the waiter is queued", func() bool { return g.Queued() == i+1 && blockedInAcquire() == i+1 })
	}
	release()
	wg.Wait()
	for i, w := range order {
		if w != i {
			t.Fatalf("admission order %v, want 0..%d in order", order, waiters-1)
		}
	}
}

// TestChurn: many goroutines acquiring with short, random deadlines,
// holding for random times, some releasing twice, leave no slot held and
// nobody queued (run with -race).
func TestChurn(t *testing.T) {
	const n, workers = 3, 500
	g := admission.New(n, 50, 20*time.Millisecond)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(5000))*time.Microsecond)
			defer cancel()
			release, err := g.Acquire(ctx)
			if err != nil {
				if !errors.Is(err, admission.ErrOverloaded) && ctx.Err() == nil {
					t.Errorf("Acquire: %v", err)
				}
				return
			}
			raise(&peak, cur.Add(1))
			time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			cur.Add(-1)
			release()
			if i%3 == 0 {
				release()
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > n {
		t.Fatalf("peak concurrency %d, want at most %d", p, n)
	}
	s := g.Stats()
	if total := s.Admitted + s.Rejected() + s.Canceled; total != workers {
		t.Errorf("Stats = %+v: %d outcomes for %d callers", s, total, workers)
	}
	expectIdle(t, g)
}

// TestRetryAfterFollowsHoldTime: the suggested Retry-After is the time
// the work ahead would take at the average hold time, in whole seconds,
// at least one.
func TestRetryAfterFollowsHoldTime(t *testing.T) {
	g := admission.New(1, 0, 4*time.Second) // the average starts at MaxWait/2
	retryAfter := func() time.Duration {
		t.Helper()
		release := acquire(t, g)
		defer release()
		_, err := g.Acquire(context.Background())
		var oe *admission.OverloadedError
		if !errors.As(err, &oe) {
			t.Fatalf("err = %v, want *OverloadedError", err)
		}
		return oe.RetryAfter
	}
	if got := retryAfter(); got != 2*time.Second {
		t.Fatalf("RetryAfter = %s before any hold was measured, want 2s (MaxWait/2, one holder ahead)", got)
	}
	for range 100 { // near-instant holds pull the average toward 0
		acquire(t, g)()
	}
	if got := retryAfter(); got != time.Second {
		t.Fatalf("RetryAfter = %s after near-instant holds, want the 1s floor", got)
	}
}
