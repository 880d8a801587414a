package password_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/password"
)

// countingGate admits everything and counts the slots taken and freed.
type countingGate struct{ taken, freed atomic.Int64 }

func (g *countingGate) Acquire(context.Context) (func(), error) {
	g.taken.Add(1)
	return func() { g.freed.Add(1) }, nil
}

// Every bcrypt computation goes through the gate, and every slot taken is
// freed; a stored hash that is not bcrypt costs a dummy compare, and so a
// slot, like a wrong password.
func TestHasherTakesASlotPerBcrypt(t *testing.T) {
	ctx := context.Background()
	g := &countingGate{}
	h := password.NewHasher(10, password.WithGate(g))
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Compare(ctx, hash, "correct horse"); !ok || err != nil {
		t.Fatalf("Compare = %v, %v", ok, err)
	}
	if err := h.CompareDummy(ctx, "anything"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Compare(ctx, "not a hash", "x"); ok || err != nil {
		t.Fatalf("Compare(garbage) = %v, %v", ok, err)
	}
	if taken, freed := g.taken.Load(), g.freed.Load(); taken != 4 || freed != 4 {
		t.Fatalf("slots taken %d, freed %d; want 4 and 4", taken, freed)
	}
}

// A full gate refuses every method with the gate's error (Retry-After
// included), without a verdict.
func TestHasherFullGate(t *testing.T) {
	ctx := context.Background()
	gate := admission.New(1, 0, 0) // one slot, no queue
	h := password.NewHasher(10, password.WithGate(gate))
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	release, err := gate.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	check := func(name string, err error) {
		t.Helper()
		var ov *admission.OverloadedError
		if !errors.Is(err, admission.ErrOverloaded) || !errors.As(err, &ov) || ov.RetryAfter < 1e9 {
			t.Errorf("%s: err = %v, want the gate's OverloadedError", name, err)
		}
	}
	_, err = h.Hash(ctx, "another horse")
	check("Hash", err)
	ok, _, err := h.Compare(ctx, hash, "correct horse")
	if ok {
		t.Error("Compare matched without running bcrypt")
	}
	check("Compare", err)
	check("CompareDummy", h.CompareDummy(ctx, "x"))
}

func TestPolicyScreensBreachedPasswords(t *testing.T) {
	listed := map[string]bool{"password1": true}
	p := password.Policy{Breached: func(pw string) bool { return listed[pw] }}
	// The screen sees the normalised password.
	if _, err := p.Check("ｐａｓｓｗｏｒｄ１"); !errors.Is(err, password.ErrWeak) || err.Error() != "weak password: "+password.BreachedReason {
		t.Fatalf("breached password: %v", err)
	}
	if _, err := p.Check("correct horse"); err != nil {
		t.Fatalf("unlisted password: %v", err)
	}
}

// countingRunner runs functions on a real NicedPool and counts them.
type countingRunner struct {
	pool *admission.NicedPool
	runs atomic.Int64
}

func (r *countingRunner) Run(f func()) { r.runs.Add(1); r.pool.Run(f) }

// With a runner every bcrypt computation runs through it, inside the gate
// slot, and the verdicts are the same as without one.
func TestHasherRunsBcryptThroughTheRunner(t *testing.T) {
	ctx := context.Background()
	pool, err := admission.NewNicedPool(1, 10)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no per-thread priorities on this OS")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	r, g := &countingRunner{pool: pool}, &countingGate{}
	h := password.NewHasher(10, password.WithGate(g), password.WithRunner(r))
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Compare(ctx, hash, "correct horse"); !ok || err != nil {
		t.Fatalf("Compare(right) = %v, %v", ok, err)
	}
	if ok, _, err := h.Compare(ctx, hash, "wrong horse"); ok || err != nil {
		t.Fatalf("Compare(wrong) = %v, %v", ok, err)
	}
	if err := h.CompareDummy(ctx, "anything"); err != nil {
		t.Fatal(err)
	}
	if runs, taken := r.runs.Load(), g.taken.Load(); runs != 4 || taken != 4 {
		t.Fatalf("runner ran %d, gate admitted %d; want 4 and 4", runs, taken)
	}
}
