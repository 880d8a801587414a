package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Gate admits CPU-bound work; *admission.Gate implements it. Acquire
// returns the function that frees the slot, or an error (the gate is
// overloaded, or ctx ended) when no slot was taken.
type Gate interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// HasherOption configures a Hasher.
type HasherOption func(*Hasher)

// WithGate runs every bcrypt computation of the Hasher (Hash, Compare,
// CompareDummy) inside g: a slot is taken just before bcrypt and freed
// just after it, so the slot count bounds the CPU bcrypt can take. When g
// refuses, the method returns g's error (wrapped) without running bcrypt.
// Without a gate bcrypt runs unbounded.
func WithGate(g Gate) HasherOption { return func(h *Hasher) { h.gate = g } }

// Runner runs a function somewhere and returns when it has returned;
// *admission.NicedPool implements it.
type Runner interface {
	Run(f func())
}

// WithRunner runs every bcrypt computation of the Hasher through r (after
// the gate admitted it): authd runs them on low-priority threads. Without
// a runner bcrypt runs on the calling goroutine.
func WithRunner(r Runner) HasherOption { return func(h *Hasher) { h.runner = r } }

// Hasher hashes and compares passwords with bcrypt at a fixed cost.
type Hasher struct {
	cost   int
	gate   Gate
	runner Runner
	// dummy is a hash at the same cost, compared against when a user does
	// not exist so that an unknown email costs as much as a wrong password.
	dummy func() []byte
	// observe, if set, is called before every bcrypt comparison (tests
	// count them).
	observe func()
}

// NewHasher returns a Hasher for cost. The dummy hash is computed in the
// background so start-up does not wait one bcrypt for it.
func NewHasher(cost int, opts ...HasherOption) *Hasher {
	h := &Hasher{cost: cost}
	for _, o := range opts {
		o(h)
	}
	h.dummy = sync.OnceValue(func() []byte {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		hash, err := bcrypt.GenerateFromPassword([]byte(fmt.Sprintf("%x", secret)), cost)
		if err != nil {
			// Only an invalid cost fails, and config bounds the cost.
			panic(fmt.Sprintf("password: dummy hash: %v", err))
		}
		return hash
	})
	go h.dummy()
	return h
}

// Cost returns the configured bcrypt cost.
func (h *Hasher) Cost() int { return h.cost }

// MaxStoredCost is the highest bcrypt cost Compare runs: MaxImportedCost,
// or the configured cost when that is higher (the hashes authd writes
// itself). A stored hash above it never matches.
func (h *Hasher) MaxStoredCost() int { return max(MaxImportedCost, h.cost) }

// tooCostly reports whether Compare must not run s.
func (h *Hasher) tooCostly(s Stored) bool { return s.Cost() > h.MaxStoredCost() }

// admit takes a gate slot, if there is a gate; the returned function
// frees it.
func (h *Hasher) admit(ctx context.Context) (func(), error) {
	if h.gate == nil {
		return func() {}, nil
	}
	release, err := h.gate.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("password: bcrypt admission: %w", err)
	}
	return release, nil
}

// run runs f through the runner, if there is one.
func (h *Hasher) run(f func()) {
	if h.runner == nil {
		f()
		return
	}
	h.runner.Run(f)
}

// Hash hashes a normalised password. A gate refusal is returned as an
// error wrapping the gate's.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	release, err := h.admit(ctx)
	if err != nil {
		return "", err
	}
	var hash []byte
	h.run(func() { hash, err = bcrypt.GenerateFromPassword([]byte(pw), h.cost) })
	release()
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return string(hash), nil
}

// candidates returns the forms of pw a login compares with a stored hash:
// its NFKC form, and the raw password too when NFKC changes it (imported
// users typed theirs before anyone normalised it). Their number is the
// number of bcrypt computations pw costs, whether or not there is an
// account, so it depends on pw alone.
func candidates(pw string) []string {
	n := Normalize(pw)
	if n == pw {
		return []string{n}
	}
	return []string{n, pw}
}

// Compare reports whether pw matches the stored hash, and whether the hash
// should be replaced: its cost is below the configured one, it is in an
// imported format (see ParseStored), or it matched the un-normalised
// password (hashed by another system before NFKC applied). err is set only
// when the gate refused (no verdict was reached: match is false).
//
// A stored hash that does not parse never matches; like one whose cost is
// above MaxStoredCost, it costs a dummy compare. A hash whose cost is above MaxStoredCost is not run: Compare spends a
// dummy compare at the configured cost instead and reports no match.
//
// A password over MaxBytes never matches a plain bcrypt hash: bcrypt would
// compare only its first 72 bytes. Django's bcrypt_sha256 pre-hashes, so
// there any length is compared in full.
//
// A mismatch runs exactly as many bcrypt computations as CompareDummy does
// for the same pw (one per candidate form; a form bcrypt cannot take, over
// 72 bytes, is compared with the dummy hash instead), so the time of a
// wrong password says nothing about whether the account exists.
func (h *Hasher) Compare(ctx context.Context, stored, pw string) (match, rehash bool, err error) {
	s, err := ParseStored(stored)
	if err != nil {
		// Nothing to compare against, but a wrong password's work is
		// still spent, so a row with a broken hash answers in the time
		// of any other account's wrong password.
		return false, false, h.CompareDummy(ctx, pw)
	}
	if h.tooCostly(s) {
		// An older release imported it, or someone wrote it into the
		// database. Running it would hold a slot for up to hours per
		// guess; the dummy spends what a wrong password costs, so the
		// answer is a wrong password's in every respect. Only a reset,
		// which writes a native hash, lets the owner in again.
		return false, false, h.CompareDummy(ctx, pw)
	}
	forms := candidates(pw)
	dummy := h.dummy() // outside the slot: only the first call waits for it
	release, err := h.admit(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	var matched, raw bool
	h.run(func() {
		for i, f := range forms {
			if !s.comparable(f) {
				h.burn(dummy)
				continue
			}
			if h.compare([]byte(s.bcrypt), s.input(f)) {
				matched, raw = true, i > 0
				return
			}
		}
	})
	if !matched {
		return false, false, nil
	}
	cost, err := bcrypt.Cost([]byte(s.bcrypt))
	return true, raw || s.format != FormatBcrypt || err != nil || cost < h.cost, nil
}

// CompareDummy spends the time of a failed Compare of pw against a hash no
// password matches: as many bcrypt computations at the configured cost.
// Call it when the user does not exist (or the email is malformed). It
// takes a gate slot like Compare, so that an overloaded server answers the
// same whether or not the account exists; the error is the gate's refusal.
func (h *Hasher) CompareDummy(ctx context.Context, pw string) error {
	forms := candidates(pw)
	dummy := h.dummy() // outside the slot: only the first call waits for it
	release, err := h.admit(ctx)
	if err != nil {
		return err
	}
	h.run(func() {
		for range forms {
			h.burn(dummy)
		}
	})
	release()
	return nil
}

// burn runs one bcrypt computation against the dummy hash. Its input is
// fixed: bcrypt's time does not depend on it.
func (h *Hasher) burn(dummy []byte) { _ = h.compare(dummy, []byte("dummy")) }

// compare runs one bcrypt comparison.
func (h *Hasher) compare(hash, pw []byte) bool {
	if h.observe != nil {
		h.observe()
	}
	return bcrypt.CompareHashAndPassword(hash, pw) == nil
}
