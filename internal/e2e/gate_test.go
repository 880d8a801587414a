package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// A burst of 4 × the bcrypt slots of concurrent logins, with the default
// gate settings, is served in full: the last of it waits three bcrypt
// computations, which the default wait covers. The cost is the one whose
// bcrypt takes what cost 12 takes on a current core (a fifth to two fifths
// of a second), measured on this machine as it is loaded now, so that the
// burst waits what it would in production. Where even the lowest cost
// takes longer (the race detector slows bcrypt tenfold), the wait is
// stretched by as much, so that the test still asks for the ratio the
// default keeps between the wait and a bcrypt.
func TestLoginBurstOfFourTimesTheSlotsIsServed(t *testing.T) {
	cfg := testConfig()
	backends[0].configure(t, &cfg)
	const production = 200 * time.Millisecond
	var took time.Duration
	cfg.BcryptCost, took = costTaking(t, production)
	if took > 2*production {
		cfg.BcryptMaxWait = cfg.BcryptMaxWait * took / production
		t.Logf("bcrypt is slow here: the wait is stretched to %s", cfg.BcryptMaxWait)
	}
	s := start(t, cfg, newClock())
	s.register("burst@example.com", pw).want(t, http.StatusCreated)

	burst := 4 * s.App.Gate().Limits().MaxConcurrent
	statuses := make([]response, burst)
	latency := make([]time.Duration, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			begin := time.Now()
			statuses[i] = s.postJSON("/v1/login", map[string]string{"email": "burst@example.com", "password": pw})
			latency[i] = time.Since(begin)
		})
	}
	wg.Wait()
	for i, r := range statuses {
		if r.Status != http.StatusOK {
			t.Errorf("login %d of a burst of %d: %d %s after %s", i, burst, r.Status, r.Body, latency[i])
		}
	}
	t.Logf("burst of %d logins at cost %d on %d slots, max wait %s: slowest %s (gate: %+v)",
		burst, cfg.BcryptCost, burst/4, s.App.Gate().Limits().MaxWait, slowest(latency), s.App.Gate().Stats())
}

// costTaking returns the lowest bcrypt cost (10 to 16) whose computation
// takes at least target on this machine now, and how long it takes.
func costTaking(t *testing.T, target time.Duration) (int, time.Duration) {
	t.Helper()
	var runs []time.Duration
	for range 3 {
		begin := time.Now()
		if _, err := bcrypt.GenerateFromPassword([]byte(pw), 10); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, time.Since(begin))
	}
	slices.Sort(runs)
	cost, d := 10, runs[1]
	for ; cost < 16 && d < target; cost++ {
		d *= 2
	}
	t.Logf("bcrypt at cost 10 takes %s here now: cost %d takes about %s", runs[1], cost, d)
	return cost, d
}

// Beyond the queue a login is refused at once, 503 with Retry-After,
// without waiting for a slot; those queued are served when the slots free.
// The test holds every slot itself, so the queue stays full while it looks.
// The wait is the longest allowed, so that the queued logins are served
// however slow bcrypt is here, and an answer within a second is plainly
// not one that waited.
func TestLoginBeyondTheQueueIsRefusedAtOnce(t *testing.T) {
	cfg := testConfig()
	backends[0].configure(t, &cfg)
	cfg.BcryptMaxWait = 30 * time.Second
	s := start(t, cfg, newClock())
	s.register("queue@example.com", pw).want(t, http.StatusCreated)
	g := s.App.Gate()
	lim := g.Limits()

	var held []func()
	for range lim.MaxConcurrent {
		release, err := g.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	queued := make([]response, lim.MaxQueue)
	var wg sync.WaitGroup
	for i := range lim.MaxQueue {
		wg.Go(func() {
			queued[i] = s.postJSON("/v1/login", map[string]string{"email": "queue@example.com", "password": pw})
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.Queued() != lim.MaxQueue {
		if time.Now().After(deadline) {
			t.Fatalf("%d logins queued, want %d", g.Queued(), lim.MaxQueue)
		}
		time.Sleep(time.Millisecond)
	}

	begin := time.Now()
	r := s.postJSON("/v1/login", map[string]string{"email": "queue@example.com", "password": pw})
	took := time.Since(begin)
	r.wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	retry := r.retryAfter(t)
	if took > time.Second {
		t.Errorf("the refusal beyond the queue took %s; want it at once, not after waiting (max wait %s)", took, lim.MaxWait)
	}
	t.Logf("beyond a queue of %d: 503 in %s, Retry-After %s", lim.MaxQueue, took, retry)

	for _, release := range held {
		release()
	}
	wg.Wait()
	for i, r := range queued {
		if r.Status != http.StatusOK {
			t.Errorf("queued login %d: %d %s", i, r.Status, r.Body)
		}
	}
}

// slowest returns the longest of ds.
func slowest(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
