// Package denylisttest is the conformance suite of denylist.Denylist: every
// backend's tests call Run, so Memory and Redis are held to one behaviour.
// It is imported by tests only.
package denylisttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/denylist"
)

// NewFunc returns an empty denylist, private to test t, that reads time
// from clock. Run calls it once per sub-test, from parallel sub-tests.
type NewFunc = func(t *testing.T, clock func() time.Time) denylist.Denylist

// Option adapts the suite to a backend.
type Option func(*options)

type options struct {
	expiryGranularity time.Duration
}

// WithExpiryGranularity declares that the backend may keep refusing a
// token for up to d after the entry's until: a denylist.Mirror fed by
// events rounds until up to whole seconds, as the events carry it. The
// expiry test waits that much longer before expecting entries gone; it
// still expects them kept until their until.
func WithExpiryGranularity(d time.Duration) Option {
	return func(o *options) { o.expiryGranularity = d }
}

// Run runs the conformance suite against the backend newDenylist builds.
// One sub-test waits about half a second of real time (plus any expiry
// granularity), because a Redis TTL runs on the server's clock and cannot
// be advanced.
func Run(t *testing.T, newDenylist NewFunc, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	t.Run("Cases", func(t *testing.T) { runCases(t, newDenylist) })
	for _, tc := range []struct {
		name string
		test func(t *testing.T, dl denylist.Denylist, clock func() time.Time)
	}{
		{"InvalidArguments", testInvalidArguments},
		{"ConcurrentCutoffs", testConcurrentCutoffs},
		{"Expiry", func(t *testing.T, dl denylist.Denylist, clock func() time.Time) { testExpiry(t, dl, clock, o) }},
		{"Ping", testPing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := skewedClock()
			tc.test(t, newDenylist(t, clock), clock)
		})
	}
}

// tok builds the token a check is asked about.
func tok(jti, sid, sub string, iat time.Time) denylist.Token {
	return denylist.Token{JTI: jti, SID: sid, Subject: sub, IssuedAt: iat}
}

// check is one expectation: Check(tok) returns an error matching want,
// where want is nil or denylist.ErrRevoked.
type check struct {
	tok  denylist.Token
	want error
}

// runCases runs the table of revocations and the checks that follow them.
func runCases(t *testing.T, newDenylist NewFunc) {
	const hour = time.Hour
	cases := []struct {
		name   string
		revoke func(ctx context.Context, dl denylist.Denylist, now time.Time) error
		checks func(now time.Time) []check
	}{{
		name: "nothing revoked",
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "s1", "u1", now), nil},
				{tok("j1", "", "u1", now), nil},
				{tok("", "", "", time.Time{}), nil},
			}
		},
	}, {
		name: "token id",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return dl.RevokeToken(ctx, "u1", "j1", now.Add(hour))
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "s1", "u1", now), denylist.ErrRevoked},
				{tok("j1", "", "u1", now), denylist.ErrRevoked},
				{tok("j2", "s1", "u1", now), nil},
				{tok("j2", "", "u2", now), nil},
			}
		},
	}, {
		name: "session",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return dl.RevokeSessions(ctx, "u1", []string{"s1"}, now.Add(hour))
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "s1", "u1", now), denylist.ErrRevoked},
				{tok("j2", "s1", "u1", now), denylist.ErrRevoked}, // another token of the session
				{tok("j3", "s2", "u1", now), nil},                 // another session of the user
				{tok("j4", "", "u1", now), nil},
			}
		},
	}, {
		name: "several sessions",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return dl.RevokeSessions(ctx, "u1", []string{"s1", "s2", "s3", "s2"}, now.Add(hour))
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "s1", "u1", now), denylist.ErrRevoked},
				{tok("j2", "s2", "u1", now), denylist.ErrRevoked},
				{tok("j3", "s3", "u1", now), denylist.ErrRevoked},
				{tok("j4", "s4", "u1", now), nil},
			}
		},
	}, {
		name: "no sessions",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return dl.RevokeSessions(ctx, "u1", nil, now.Add(hour))
		},
		checks: func(now time.Time) []check {
			return []check{{tok("j1", "s1", "u1", now), nil}}
		},
	}, {
		name: "user cutoff",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return dl.RevokeUserBefore(ctx, "u1", now, now.Add(hour))
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "s1", "u1", now.Add(-hour)), denylist.ErrRevoked},
				{tok("j1", "s1", "u1", now.Add(-time.Second)), denylist.ErrRevoked},
				{tok("j2", "s2", "u1", now), nil}, // iat == cutoff
				{tok("j3", "s3", "u1", now.Add(time.Second)), nil},
				{tok("j4", "s4", "u2", now.Add(-hour)), nil}, // another user
			}
		},
	}, {
		name: "user cutoff in whole seconds",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			cutoff := now.Truncate(time.Second).Add(700 * time.Millisecond)
			return dl.RevokeUserBefore(ctx, "u1", cutoff, now.Add(hour))
		},
		checks: func(now time.Time) []check {
			sec := now.Truncate(time.Second)
			return []check{
				{tok("j1", "", "u1", sec.Add(-time.Millisecond)), denylist.ErrRevoked},
				{tok("j2", "", "u1", sec.Add(200*time.Millisecond)), nil}, // same second as the cutoff
			}
		},
	}, {
		name: "later cutoff replaces earlier",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return errors.Join(
				dl.RevokeUserBefore(ctx, "u1", now.Add(-hour), now.Add(hour)),
				dl.RevokeUserBefore(ctx, "u1", now, now.Add(hour)),
			)
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "", "u1", now.Add(-2*hour)), denylist.ErrRevoked},
				{tok("j2", "", "u1", now.Add(-hour/2)), denylist.ErrRevoked},
				{tok("j3", "", "u1", now), nil},
			}
		},
	}, {
		name: "earlier cutoff never replaces later",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			return errors.Join(
				dl.RevokeUserBefore(ctx, "u1", now, now.Add(hour)),
				dl.RevokeUserBefore(ctx, "u1", now.Add(-hour), now.Add(hour)),
			)
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "", "u1", now.Add(-hour/2)), denylist.ErrRevoked},
				{tok("j2", "", "u1", now), nil},
			}
		},
	}, {
		name: "past until is a no-op",
		revoke: func(ctx context.Context, dl denylist.Denylist, now time.Time) error {
			past := now.Add(-time.Second)
			return errors.Join(
				dl.RevokeToken(ctx, "", "j1", past),
				dl.RevokeSessions(ctx, "", []string{"s1"}, past),
				dl.RevokeUserBefore(ctx, "u1", now, past),
			)
		},
		checks: func(now time.Time) []check {
			return []check{
				{tok("j1", "", "", now), nil},
				{tok("j2", "s1", "", now), nil},
				{tok("j3", "", "u1", now.Add(-hour)), nil},
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := skewedClock()
			dl := newDenylist(t, clock)
			ctx := t.Context()
			now := clock()
			if tc.revoke != nil {
				if err := tc.revoke(ctx, dl, now); err != nil {
					t.Fatalf("revoke: %v", err)
				}
			}
			for _, c := range tc.checks(now) {
				expectCheck(t, dl, c.tok, c.want)
			}
		})
	}
}

// expectCheck fails t unless Check(tok) matches want (nil or ErrRevoked);
// a revoked answer must never also claim the denylist is unavailable.
func expectCheck(t *testing.T, dl denylist.Checker, tok denylist.Token, want error) {
	t.Helper()
	err := dl.Check(t.Context(), tok)
	switch {
	case want == nil && err != nil:
		t.Errorf("Check(%+v) = %v, want nil", tok, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("Check(%+v) = %v, want %v", tok, err, want)
	case errors.Is(err, denylist.ErrUnavailable):
		t.Errorf("Check(%+v) = %v, must not match ErrUnavailable", tok, err)
	}
}

// testInvalidArguments: an empty id is the caller's error, reported as
// such, and writes nothing (not even the valid ids of the same call).
func testInvalidArguments(t *testing.T, dl denylist.Denylist, clock func() time.Time) {
	ctx := t.Context()
	until := clock().Add(time.Hour)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"empty jti", func() error { return dl.RevokeToken(ctx, "u1", "", until) }},
		{"empty sid", func() error { return dl.RevokeSessions(ctx, "u1", []string{"s1", ""}, until) }},
		{"empty subject", func() error { return dl.RevokeUserBefore(ctx, "", clock(), until) }},
		{"empty jti, past until", func() error { return dl.RevokeToken(ctx, "u1", "", clock().Add(-time.Hour)) }},
	} {
		err := tc.call()
		if !errors.Is(err, denylist.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", tc.name, err)
		}
		if errors.Is(err, denylist.ErrUnavailable) || errors.Is(err, denylist.ErrRevoked) {
			t.Errorf("%s: err = %v, must match neither ErrUnavailable nor ErrRevoked", tc.name, err)
		}
	}
	expectCheck(t, dl, tok("j1", "s1", "u1", clock()), nil)
}

// testConcurrentCutoffs: writers racing with random cutoffs and expiries
// leave the greatest cutoff, while readers keep getting answers.
func testConcurrentCutoffs(t *testing.T, dl denylist.Denylist, clock func() time.Time) {
	const writers = 20
	ctx := t.Context()
	base := clock().Add(-2 * time.Hour).Truncate(time.Second)
	cutoffs := make([]time.Time, writers)
	for i := range cutoffs {
		cutoffs[i] = base.Add(time.Duration(rand.IntN(3600)) * time.Second)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i, cutoff := range cutoffs {
		until := clock().Add(time.Hour + time.Duration(rand.IntN(60))*time.Minute)
		wg.Go(func() {
			if err := dl.RevokeUserBefore(ctx, "u1", cutoff, until); err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		})
		wg.Go(func() {
			err := dl.Check(ctx, tok("j1", "s1", "u1", base.Add(-time.Second)))
			if err != nil && !errors.Is(err, denylist.ErrRevoked) {
				errs <- fmt.Errorf("reader %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	highest := cutoffs[0]
	for _, c := range cutoffs {
		if c.After(highest) {
			highest = c
		}
	}
	expectCheck(t, dl, tok("j1", "", "u1", highest.Add(-time.Second)), denylist.ErrRevoked)
	expectCheck(t, dl, tok("j2", "", "u1", highest), nil)
}

// testExpiry: entries stop refusing at their until, and a later write
// never shortens an entry nor lowers a cutoff. Redis TTLs run in real time,
// so this waits for them. The entries are first checked before their
// until; should the writes and those checks not fit in the short lifetime
// (a loaded machine), the round is repeated on fresh keys with twice the
// lifetime, so the checks before expiry always run and a round that ran
// over never counts.
func testExpiry(t *testing.T, dl denylist.Denylist, clock func() time.Time, o options) {
	const maxShort = 8 * time.Second
	for short := 500 * time.Millisecond; short <= maxShort; short *= 2 {
		if expiryRound(t, dl, clock, o, short) {
			return
		}
		t.Logf("writes and checks took over %v; again with twice the lifetime", short)
	}
	t.Fatalf("writes and checks took over %v every time", maxShort)
}

// expiryRound is one round of testExpiry with entries living short, on keys
// of their own. It reports false, having asserted nothing, when the writes
// and the checks before expiry did not all finish within short.
func expiryRound(t *testing.T, dl denylist.Denylist, clock func() time.Time, o options, short time.Duration) bool {
	ctx := t.Context()
	k := func(name string) string { return fmt.Sprintf("%s-%v", name, short) }
	now := clock()
	soon, later := now.Add(short), now.Add(time.Hour)
	old := now.Add(-time.Minute)
	err := errors.Join(
		dl.RevokeToken(ctx, "", k("j-short"), soon),
		dl.RevokeToken(ctx, "", k("j-extended"), soon),
		dl.RevokeToken(ctx, "", k("j-extended"), later),
		dl.RevokeToken(ctx, "", k("j-kept"), later),
		dl.RevokeToken(ctx, "", k("j-kept"), soon),
		dl.RevokeSessions(ctx, "", []string{k("s-short"), k("s-kept")}, soon),
		dl.RevokeSessions(ctx, "", []string{k("s-kept")}, later),
		dl.RevokeUserBefore(ctx, k("u-short"), now, soon),
		dl.RevokeUserBefore(ctx, k("u-kept"), now, later),
		dl.RevokeUserBefore(ctx, k("u-kept"), old, soon),
		dl.RevokeUserBefore(ctx, k("u-raised"), old, later),
		dl.RevokeUserBefore(ctx, k("u-raised"), now, soon),
	)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	iat := now.Add(-time.Second) // before now, after old
	all := []struct {
		tok  denylist.Token
		kept bool
	}{
		{tok(k("j-short"), "", "", iat), false},
		{tok(k("j-extended"), "", "", iat), true},
		{tok(k("j-kept"), "", "", iat), true},
		{tok("j", k("s-short"), "", iat), false},
		{tok("j", k("s-kept"), "", iat), true},
		{tok("j", "", k("u-short"), iat), false},
		{tok("j", "", k("u-kept"), iat), true},
		{tok("j", "", k("u-raised"), iat), true},
	}
	before := make([]error, len(all))
	for i, c := range all {
		before[i] = dl.Check(ctx, c.tok)
	}
	if !clock().Before(soon) {
		return false
	}
	for i, c := range all {
		if !errors.Is(before[i], denylist.ErrRevoked) || errors.Is(before[i], denylist.ErrUnavailable) {
			t.Errorf("before expiry: Check(%+v) = %v, want %v", c.tok, before[i], denylist.ErrRevoked)
		}
	}
	time.Sleep(soon.Sub(clock()) + o.expiryGranularity + 100*time.Millisecond)
	for _, c := range all {
		want := error(nil)
		if c.kept {
			want = denylist.ErrRevoked
		}
		expectCheck(t, dl, c.tok, want)
	}
	return true
}

// testPing: a working backend answers.
func testPing(t *testing.T, dl denylist.Denylist, _ func() time.Time) {
	if err := dl.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
