package admission_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/testclock"
)

func newFakeClock() *testclock.Clock { return testclock.New(time.Unix(1_700_000_000, 0)) }

// A burst of 4 × the slots, arriving together, is served in full by a gate
// with the default queue and wait, even when each computation takes as
// long as a bcrypt at cost 12 on a loaded core: the last of the burst
// waits three of them. The work is a function the test ends, on a clock
// the test moves.
func TestDefaultsServeABurstOfFourTimesTheSlots(t *testing.T) {
	const (
		slots = 2
		burst = 4 * slots
		// bcrypt at cost 12 on a core shared with other work.
		work = 300 * time.Millisecond
	)
	clk := newFakeClock()
	g := admission.New(slots, -1, 0, admission.WithClock(clk))
	admitted := make(chan func(), burst) // each admitted caller's "done"
	errs := make(chan error, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			release, err := g.Acquire(context.Background())
			if err != nil {
				errs <- err
				return
			}
			done := make(chan struct{})
			admitted <- func() { close(done) }
			<-done // the computation runs until the test ends it
			release()
		})
	}
	waitFor(t, "the burst has arrived", func() bool {
		return g.InFlight() == slots && g.Queued() == burst-slots && blockedInAcquire() == burst-slots
	})
	served := 0
	for served < burst {
		// Collect this round's holders, let the work take its time, end it.
		var round []func()
		for len(round) < slots {
			select {
			case done := <-admitted:
				round = append(round, done)
			case err := <-errs:
				t.Fatalf("after %d served and %s of work: Acquire: %v", served, time.Duration(served/slots)*work, err)
			}
		}
		clk.Advance(work)
		for _, done := range round {
			done()
		}
		served += len(round)
	}
	wg.Wait()
	if s := g.Stats(); s.Admitted != burst || s.Rejected() != 0 {
		t.Fatalf("Stats = %+v, want %d admitted and none rejected", s, burst)
	}
	expectIdle(t, g)
}

// Past the default queue the gate refuses at once, with a Retry-After
// estimated from the work ahead: the clock never moves, so a refusal that
// waited would never come back.
func TestDefaultsRefuseBeyondTheQueueAtOnce(t *testing.T) {
	const slots = 2
	clk := newFakeClock()
	g := admission.New(slots, -1, 0, admission.WithClock(clk))
	q := g.Limits().MaxQueue
	var releases []func()
	for range slots {
		releases = append(releases, acquire(t, g))
	}
	var wg sync.WaitGroup
	for range q {
		wg.Go(func() {
			r, err := g.Acquire(context.Background())
			if err != nil {
				t.Errorf("queued Acquire: %v", err)
				return
			}
			r()
		})
	}
	waitFor(t, "the queue is full", func() bool { return g.Queued() == q && blockedInAcquire() == q })
	_, err := g.Acquire(context.Background())
	var oe *admission.OverloadedError
	if !errors.As(err, &oe) || !oe.QueueFull {
		t.Fatalf("Acquire beyond the queue: %v, want an OverloadedError with QueueFull", err)
	}
	// Nothing measured yet: each hold is guessed at MaxWait/2, and the
	// work ahead is the slots' plus the queue's.
	want := (admission.DefaultMaxWait/2*time.Duration(slots+q)/slots + time.Second - 1).Truncate(time.Second)
	if oe.RetryAfter != want {
		t.Errorf("RetryAfter = %s, want %s", oe.RetryAfter, want)
	}
	for _, r := range releases {
		r()
	}
	wg.Wait()
	expectIdle(t, g)
}

// An owner has one computation admitted or queued at a time: another
// Acquire of the same owner fails at once with ErrOwnerBusy, taking no
// slot or place in the queue, while other owners and anonymous callers
// are admitted as usual. Once the first is released, the owner is
// admitted again, and a refusal or cancellation does not leave the owner
// marked.
func TestOneComputationPerOwner(t *testing.T) {
	g := admission.New(4, 4, time.Second, admission.WithClock(newFakeClock()))
	alice := admission.WithOwner(context.Background(), "user:alice")
	bob := admission.WithOwner(context.Background(), "user:bob")
	first, err := g.Acquire(alice)
	if err != nil {
		t.Fatal(err)
	}
	for range 16 {
		if r, err := g.Acquire(alice); r != nil || !errors.Is(err, admission.ErrOwnerBusy) {
			t.Fatalf("second Acquire of the owner = %v, %v; want ErrOwnerBusy", r != nil, err)
		}
	}
	if n, q := g.InFlight(), g.Queued(); n != 1 || q != 0 {
		t.Fatalf("InFlight = %d, Queued = %d after the refusals; want 1, 0", n, q)
	}
	other, err := g.Acquire(bob)
	if err != nil {
		t.Fatalf("another owner: %v", err)
	}
	anon := acquire(t, g)
	first()
	first() // a second release frees nothing more
	again, err := g.Acquire(alice)
	if err != nil {
		t.Fatalf("the owner after its release: %v", err)
	}
	if s := g.Stats(); s.OwnerBusy != 16 || s.Rejected() != 0 || s.Admitted != 4 {
		t.Errorf("Stats = %+v, want 16 owner-busy refusals, none rejected, 4 admitted", s)
	}
	again()
	other()
	anon()

	// A queued owner is in flight too; when it gives up, it is free again.
	hold := make([]func(), 0, 4)
	for range 4 {
		hold = append(hold, acquire(t, g))
	}
	ctx, cancel := context.WithCancel(alice)
	done := make(chan error, 1)
	go func() {
		_, err := g.Acquire(ctx)
		done <- err
	}()
	waitFor(t, "the owner is queued", func() bool { return g.Queued() == 1 })
	if _, err := g.Acquire(alice); !errors.Is(err, admission.ErrOwnerBusy) {
		t.Fatalf("Acquire while the owner is queued: %v, want ErrOwnerBusy", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued owner: %v, want context.Canceled", err)
	}
	hold[0]()
	r, err := g.Acquire(alice)
	if err != nil {
		t.Fatalf("the owner after its queued call gave up: %v", err)
	}
	r()
	for _, r := range hold[1:] {
		r()
	}
	expectIdle(t, g)
}
