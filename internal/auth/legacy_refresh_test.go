package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/token"
)

// Refresh tokens of the older, signed kind are accepted until the last one
// a release before the MAC change could have issued has expired (720h
// after 2026-11-26T02:13:14Z), then refused; MACed ones are unaffected.
func TestLegacySignedRefreshTokenCutoff(t *testing.T) {
	cutoff := time.Date(2026, 12, 26, 2, 13, 14, 0, time.UTC)
	var mu sync.Mutex
	now := cutoff.Add(-time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	f := newFixture(t, denylist.NewMemory(), 10, func(c *auth.Config) { c.Clock = clock })
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "legacy@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := f.keys.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	// legacy logs in and returns the session's current refresh token as an
	// older release minted it: signed with the signing key.
	legacy := func() (signed, maced string) {
		t.Helper()
		toks, err := f.svc.Login(ctx, "legacy@example.com", "correct horse battery", auth.Device{})
		if err != nil {
			t.Fatal(err)
		}
		sessions, err := f.store.ListSessions(ctx, u.ID, clock())
		if err != nil || len(sessions) == 0 {
			t.Fatal(sessions, err)
		}
		s := sessions[0] // newest first
		signed, err = token.Sign(signer, token.TypeRefresh, &token.Payload{RegisteredClaims: token.RegisteredClaims{
			Issuer: "https://auth.example", Subject: u.ID, Audience: token.ClaimStrings{"https://auth.example"},
			ID: s.RefreshJTI, IssuedAt: token.NewNumericDate(s.RefreshIssuedAt), ExpiresAt: token.NewNumericDate(s.ExpiresAt),
		}, SessionID: s.ID})
		if err != nil {
			t.Fatal(err)
		}
		return signed, toks.RefreshToken
	}
	cases := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"an hour before the cutoff", cutoff.Add(-time.Hour), true},
		{"a second before the cutoff", cutoff.Add(-time.Second), true},
		{"at the cutoff", cutoff, false},
		{"a day after the cutoff", cutoff.Add(24 * time.Hour), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set(c.at.Add(-time.Minute))
			signed, maced := legacy()
			set(c.at)
			_, err := f.svc.Refresh(ctx, signed, auth.Device{})
			if c.ok && err != nil {
				t.Fatalf("signed refresh token: %v", err)
			}
			if !c.ok && !errors.Is(err, auth.ErrInvalidGrant) {
				t.Fatalf("signed refresh token: err = %v, want ErrInvalidGrant", err)
			}
			if c.ok {
				return // the session rotated; its MACed token is now reused
			}
			if _, err := f.svc.Refresh(ctx, maced, auth.Device{}); err != nil {
				t.Fatalf("MACed refresh token after the cutoff: %v", err)
			}
		})
	}
}
