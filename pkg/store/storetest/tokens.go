package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Purposes the cases use; the store gives them no meaning.
const (
	purposeA = "verify_email"
	purposeB = "reset_password"
)

// digest stands in for the caller's token hash.
func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newToken stores a token of userID for purpose, created at base() and
// valid for ttl, and returns it.
func newToken(t *testing.T, s Store, raw, purpose, userID string, ttl time.Duration) store.OneTimeToken {
	t.Helper()
	tok := store.OneTimeToken{
		Hash: digest(raw), Purpose: purpose, UserID: userID, Email: userID + "@example.com",
		CreatedAt: base(), ExpiresAt: base().Add(ttl),
	}
	if err := s.CreateOneTimeToken(ctxT(t), tok); err != nil {
		t.Fatalf("CreateOneTimeToken(%s): %v", raw, err)
	}
	return tok
}

func testOneTimeTokenConsume(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	want := newToken(t, s, "t1", purposeA, "u1", time.Hour)
	at := base().Add(time.Minute)

	_, err := s.ConsumeOneTimeToken(ctx, digest("t1"), purposeB, at)
	wantErr(t, "wrong purpose", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(ctx, digest("nope"), purposeA, at)
	wantErr(t, "unknown hash", err, store.ErrNotFound)

	// The refused attempts left it usable.
	got, err := s.ConsumeOneTimeToken(ctx, digest("t1"), purposeA, at)
	wantErr(t, "consume", err, nil)
	want.UsedAt = at
	sameToken(t, got, want)

	_, err = s.ConsumeOneTimeToken(ctx, digest("t1"), purposeA, at.Add(time.Second))
	wantErr(t, "reuse", err, store.ErrNotFound)
}

func testOneTimeTokenExpiry(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	newToken(t, s, "at-expiry", purposeA, "u1", time.Hour)
	newToken(t, s, "just-before", purposeA, "u2", time.Hour)
	// ExpiresAt is exclusive: at that instant the token is dead.
	_, err := s.ConsumeOneTimeToken(ctx, digest("at-expiry"), purposeA, base().Add(time.Hour))
	wantErr(t, "at expiry", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(ctx, digest("just-before"), purposeA, base().Add(time.Hour-time.Microsecond))
	wantErr(t, "a microsecond before expiry", err, nil)
}

func testOneTimeTokenSupersede(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	newToken(t, s, "old", purposeA, "u1", time.Hour)
	newToken(t, s, "other-purpose", purposeB, "u1", time.Hour)
	newToken(t, s, "other-user", purposeA, "u2", time.Hour)
	newToken(t, s, "new", purposeA, "u1", time.Hour)
	at := base().Add(time.Minute)
	cases := []struct {
		name, raw, purpose string
		want               error
	}{
		{"earlier token of the purpose is gone", "old", purposeA, store.ErrNotFound},
		{"latest works", "new", purposeA, nil},
		{"other purpose untouched", "other-purpose", purposeB, nil},
		{"other user untouched", "other-user", purposeA, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.ConsumeOneTimeToken(ctx, digest(c.raw), c.purpose, at)
			wantErr(t, c.name, err, c.want)
		})
	}
}

func testOneTimeTokenErrors(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	newToken(t, s, "t1", purposeA, "u1", time.Hour)
	cases := []struct {
		name string
		tok  store.OneTimeToken
		want error
	}{
		{"unknown user", store.OneTimeToken{Hash: digest("t2"), Purpose: purposeA, UserID: "nobody",
			Email: "x@example.com", ExpiresAt: base().Add(time.Hour)}, store.ErrNotFound},
		{"taken hash", store.OneTimeToken{Hash: digest("t1"), Purpose: purposeA, UserID: "u2",
			Email: "x@example.com", ExpiresAt: base().Add(time.Hour)}, store.ErrAlreadyExists},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, s.CreateOneTimeToken(ctx, c.tok), c.want)
		})
	}
	// A failed create rolled back its deletion of u2's earlier tokens
	// (there were none) and left u1's token in place.
	_, err := s.ConsumeOneTimeToken(ctx, digest("t1"), purposeA, base())
	wantErr(t, "consume after failed creates", err, nil)
}

func testOneTimeTokenConcurrentConsume(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newToken(t, s, "t1", purposeA, "u1", time.Hour)
	const n = 20
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.ConsumeOneTimeToken(ctx, digest("t1"), purposeA, base().Add(time.Minute))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !isNotFound(err):
			t.Errorf("call %d: unexpected error %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent consumptions succeeded, want exactly 1", won)
	}
}

func testSetEmailVerified(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	cases := []struct {
		name, user, email string
		want              error
	}{
		{"other email", "u1", "someone-else@example.com", store.ErrNotFound},
		{"unknown user", "nobody", "u1@example.com", store.ErrNotFound},
		{"own email, unnormalised", "u1", " U1@Example.com", nil},
		{"again", "u1", "u1@example.com", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, s.SetEmailVerified(ctx, c.user, c.email), c.want)
		})
	}
	u1, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID(u1)", err, nil)
	u2, err := s.UserByID(ctx, "u2")
	wantErr(t, "UserByID(u2)", err, nil)
	if !u1.EmailVerified || u2.EmailVerified {
		t.Errorf("verified u1=%v u2=%v, want true false", u1.EmailVerified, u2.EmailVerified)
	}
}

// sameToken compares tokens, times as instants.
func sameToken(t *testing.T, got, want store.OneTimeToken) {
	t.Helper()
	for _, p := range []*store.OneTimeToken{&got, &want} {
		p.CreatedAt, p.ExpiresAt, p.UsedAt = p.CreatedAt.UTC(), p.ExpiresAt.UTC(), p.UsedAt.UTC()
	}
	same(t, "one-time token", got, want)
}
