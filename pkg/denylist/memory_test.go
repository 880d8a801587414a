package denylist_test

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/denylist/denylisttest"
)

func TestMemory(t *testing.T) {
	denylisttest.Run(t, func(t *testing.T, clock func() time.Time) denylist.Denylist {
		return denylist.NewMemory(denylist.WithClock(clock))
	})
}

// manualClock is a clock that moves only when told to.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestMemoryExpiresOnRead: an entry stops refusing the instant its until
// passes, without waiting for a sweep.
func TestMemoryExpiresOnRead(t *testing.T) {
	clock := newManualClock()
	m := denylist.NewMemory(denylist.WithClock(clock.Now), denylist.WithSweepInterval(24*time.Hour))
	ctx := t.Context()
	until := clock.Now().Add(10 * time.Minute)
	iat := clock.Now().Add(-time.Minute)
	if err := m.RevokeToken(ctx, "u1", "j1", until); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeSessions(ctx, "u1", []string{"s1"}, until); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeUserBefore(ctx, "u1", clock.Now(), until); err != nil {
		t.Fatal(err)
	}
	toks := []denylist.Token{
		{JTI: "j1", IssuedAt: iat},
		{JTI: "j2", SID: "s1", IssuedAt: iat},
		{JTI: "j3", Subject: "u1", IssuedAt: iat},
	}
	for _, step := range []struct {
		name    string
		advance time.Duration
		revoked bool
	}{
		{"just before until", 10*time.Minute - time.Nanosecond, true},
		{"at until", time.Nanosecond, false},
	} {
		clock.Advance(step.advance)
		for _, tok := range toks {
			err := m.Check(ctx, tok)
			if got := err != nil; got != step.revoked {
				t.Errorf("%s: Check(%+v) = %v, want revoked=%v", step.name, tok, err, step.revoked)
			}
		}
	}
	if got := m.Len(); got != 3 {
		t.Errorf("Len = %d before any sweep, want 3 (expired entries wait for a sweep)", got)
	}
}

// TestMemorySweep: expired entries are dropped by a write once the sweep
// interval has elapsed, and not before, so memory stays bounded with no
// background goroutine.
func TestMemorySweep(t *testing.T) {
	clock := newManualClock()
	m := denylist.NewMemory(denylist.WithClock(clock.Now), denylist.WithSweepInterval(time.Minute))
	ctx := t.Context()
	for i := range 100 {
		until := clock.Now().Add(30 * time.Second)
		id := string(rune('a'+i%26)) + time.Duration(i).String()
		if err := m.RevokeToken(ctx, "u1", "j"+id, until); err != nil {
			t.Fatal(err)
		}
		if err := m.RevokeSessions(ctx, "u1", []string{"s" + id}, until); err != nil {
			t.Fatal(err)
		}
		if err := m.RevokeUserBefore(ctx, "u"+id, clock.Now(), until); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RevokeToken(ctx, "u1", "long", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 301 {
		t.Fatalf("Len = %d, want 301", got)
	}

	clock.Advance(45 * time.Second) // entries expired, interval not elapsed
	if err := m.RevokeToken(ctx, "u1", "x1", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 302 {
		t.Fatalf("Len = %d before the interval, want 302 (no sweep yet)", got)
	}

	clock.Advance(15 * time.Second) // interval elapsed: the next write sweeps
	if err := m.RevokeToken(ctx, "u1", "x2", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 3 {
		t.Fatalf("Len = %d after the sweep, want 3 (long, x1, x2)", got)
	}
	if err := m.Check(ctx, denylist.Token{JTI: "long"}); err == nil {
		t.Error("sweep dropped a live entry")
	}
}

// TestMemoryCheckAllocs: the hot path allocates nothing, revoked or not.
func TestMemoryCheckAllocs(t *testing.T) {
	m := denylist.NewMemory()
	ctx := t.Context()
	now := time.Now()
	if err := m.RevokeToken(ctx, "u1", "revoked", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeUserBefore(ctx, "u1", now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []denylist.Token{
		{JTI: "fine", SID: "s1", Subject: "u1", IssuedAt: now},
		{JTI: "revoked", SID: "s1", Subject: "u1", IssuedAt: now},
		{JTI: "fine", SID: "s1", Subject: "u1", IssuedAt: now.Add(-2 * time.Hour)},
	} {
		if n := testing.AllocsPerRun(100, func() { _ = m.Check(ctx, tok) }); n != 0 {
			t.Errorf("Check(%+v) allocates %v times, want 0", tok, n)
		}
	}
}
