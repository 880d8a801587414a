package keys_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testclock"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/authd/authd/pkg/token"
)

// signAccess signs an access token with k, issued at now.
func signAccess(t *testing.T, k *token.Key, typ string, now time.Time) string {
	t.Helper()
	tok, err := token.Sign(k, typ, &token.Payload{RegisteredClaims: token.RegisteredClaims{
		Issuer: "iss", Subject: "u1", Audience: token.ClaimStrings{"iss"}, ID: "j-" + typ,
		IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(now.Add(10 * time.Minute)),
	}, SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// aheadManager returns a Manager of alg keys published 10 minutes before
// they sign, on a SQLite store of its own and a fake clock, with its
// first key.
func aheadManager(t *testing.T, alg string) (*keys.Manager, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	m := newManager(t, sqliteStore(t), keys.Config{Algorithm: alg, PublishAhead: 10 * time.Minute, Clock: clk.Now})
	ensure(t, m)
	return m, clk
}

func jwksKids(t *testing.T, m *keys.Manager) []string {
	t.Helper()
	var set token.JWKS
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

// A revoked key never signs, leaves the JWKS, and verifies neither access
// tokens nor the older signed refresh tokens, while the refresh tokens
// MACed under its id keep working so their sessions move to the new key.
// Another replica follows at its next reload.
func TestRevoke(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *sqlstore.Store{"sqlite": sqliteStore, "postgres": postgresStore} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			clk := testclock.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			var changes []keys.Change
			m := newManager(t, s, keys.Config{Algorithm: token.ES256,
				Clock: clk.Now, OnChange: func(_ context.Context, c keys.Change) { changes = append(changes, c) }})
			ensure(t, m)
			replica := manager(t, s, clk.Now)
			if err := replica.Reload(t.Context()); err != nil {
				t.Fatal(err)
			}
			leaked, _ := m.SigningKey()
			access := signAccess(t, leaked, token.TypeAccess, clk.Now())
			legacyRefresh := signAccess(t, leaked, token.TypeRefresh, clk.Now())
			refresh := mustMAC(t, m, clk.Now())
			accessV := func(m *keys.Manager) *token.Checker {
				v, err := token.NewChecker(m, token.WithIssuer("iss"), token.WithAudience("iss"), token.WithClock(clk.Now))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			refreshV := func(m *keys.Manager) *token.Checker {
				v, err := token.NewChecker(m, token.WithIssuer("iss"), token.WithAudience("iss"),
					token.WithType(token.TypeRefresh), token.WithMACKeys(m), token.WithClock(clk.Now))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			for _, tok := range []string{access} {
				if _, err := accessV(m).Verify(t.Context(), tok); err != nil {
					t.Fatalf("before revocation: %v", err)
				}
			}

			changes = nil
			repl, err := m.Revoke(t.Context(), leaked.ID)
			if err != nil {
				t.Fatal(err)
			}
			if repl == nil || repl.ID == leaked.ID {
				t.Fatalf("revoking the signer made no replacement: %v", repl)
			}
			if k, err := m.SigningKey(); err != nil || k.ID != repl.ID {
				t.Fatalf("signer = %v, %v; want the replacement %s", k, err, repl.ID)
			}
			if got := jwksKids(t, m); !slices.Equal(got, []string{repl.ID}) {
				t.Fatalf("JWKS kids = %v, want only %s", got, repl.ID)
			}
			if ids := m.KeyIDs(); slices.Contains(ids, leaked.ID) {
				t.Fatalf("KeyIDs still lists the revoked key: %v", ids)
			}
			want := []keys.Change{{KID: repl.ID, At: clk.Now()}, {KID: leaked.ID, Revoked: true, At: clk.Now()}}
			if !slices.Equal(changes, want) {
				t.Fatalf("OnChange got %+v, want %+v", changes, want)
			}
			if _, err := accessV(m).Verify(t.Context(), access); !errors.Is(err, token.ErrUnknownKey) {
				t.Fatalf("access token of the revoked key: %v, want ErrUnknownKey", err)
			}
			if _, err := refreshV(m).Verify(t.Context(), legacyRefresh); !errors.Is(err, token.ErrUnknownKey) {
				t.Fatalf("signed refresh token of the revoked key: %v, want ErrUnknownKey", err)
			}
			if _, err := refreshV(m).Verify(t.Context(), refresh); err != nil {
				t.Fatalf("MACed refresh token under the revoked key's id: %v", err)
			}

			// The other replica trusts the key until its next reload, then
			// follows: it stops verifying and signing with it.
			if _, err := accessV(replica).Verify(t.Context(), access); err != nil {
				t.Fatalf("replica before reload: %v", err)
			}
			if err := replica.Reload(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := accessV(replica).Verify(t.Context(), access); !errors.Is(err, token.ErrUnknownKey) {
				t.Fatalf("replica after reload: %v, want ErrUnknownKey", err)
			}
			if k, _ := replica.SigningKey(); k == nil || k.ID != repl.ID {
				t.Fatalf("replica signer = %v, want %s", k, repl.ID)
			}

			// Idempotent; no new key the second time.
			changes = nil
			if again, err := m.Revoke(t.Context(), leaked.ID); err != nil || again != nil {
				t.Fatalf("second Revoke = %v, %v", again, err)
			}
			if ks, _ := s.SigningKeys(t.Context(), clk.Now()); len(ks) != 2 {
				t.Fatalf("%d stored keys after a second revoke, want 2", len(ks))
			}
			if _, err := m.Revoke(t.Context(), "no-such-kid"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Revoke(unknown) = %v, want store.ErrNotFound", err)
			}

			// Revoking a retired key that no longer signs needs no
			// replacement.
			clk.Advance(time.Minute)
			next, err := m.Rotate(t.Context()) // PublishAhead 0
			if err != nil {
				t.Fatal(err)
			}
			if r, err := m.Revoke(t.Context(), repl.ID); err != nil || r != nil {
				t.Fatalf("Revoke(retired key) = %v, %v; want no replacement", r, err)
			}
			if k, _ := m.SigningKey(); k.ID != next.ID {
				t.Fatalf("signer = %s, want %s", k.ID, next.ID)
			}
		})
	}
}

// RotateNow revokes the keys it replaces; Rotate does not.
func TestRotateNowRevokesTheReplacedKeys(t *testing.T) {
	m, clk := aheadManager(t, token.EdDSA)
	first, _ := m.SigningKey()
	clk.Advance(time.Minute)
	pending, err := m.Rotate(t.Context()) // signs in 10 minutes
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, m); !slices.Equal(got, []string{first.ID, pending.ID}) {
		t.Fatalf("after Rotate JWKS = %v, want both", got)
	}
	clk.Advance(time.Minute)
	fresh, err := m.RotateNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, m); !slices.Equal(got, []string{fresh.ID}) {
		t.Fatalf("after RotateNow JWKS = %v, want only %s", got, fresh.ID)
	}
	for _, kid := range []string{first.ID, pending.ID} {
		if k, err := m.VerificationKey(t.Context(), kid); k != nil || !errors.Is(err, token.ErrUnknownKey) {
			t.Errorf("VerificationKey(replaced %s) = %v, %v", kid, k, err)
		}
	}
	if k, _ := m.SigningKey(); k.ID != fresh.ID {
		t.Fatalf("signer = %s, want %s", k.ID, fresh.ID)
	}
}

// Revoking the key rotated in ahead would leave nothing to sign once the
// current key retires, so it makes a key that signs at once.
func TestRevokePendingKeyKeepsASigner(t *testing.T) {
	m, clk := aheadManager(t, token.ES256)
	pending, err := m.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	repl, err := m.Revoke(t.Context(), pending.ID)
	if err != nil || repl == nil {
		t.Fatalf("Revoke(pending) = %v, %v; want a replacement", repl, err)
	}
	clk.Advance(time.Hour)
	if k, err := m.SigningKey(); err != nil || k.ID != repl.ID {
		t.Fatalf("an hour later signer = %v, %v; want %s", k, err, repl.ID)
	}
}

// The ring reports a key's retirement, so verifiers refuse tokens a
// retired key signs after it (a stolen key minting fresh tokens).
func TestRetiredKeyReportsItsRetirement(t *testing.T) {
	s := sqliteStore(t)
	clk := testclock.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	m := manager(t, s, clk.Now)
	ensure(t, m)
	old, _ := m.SigningKey()
	if _, err := m.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	retiredAt := clk.Now()
	k, err := m.VerificationKey(t.Context(), old.ID)
	if err != nil || !k.RetiredAt.Equal(retiredAt) {
		t.Fatalf("retired key = %v, %v; want RetiredAt %v", k, err, retiredAt)
	}
	keysIn, err := token.ParseJWKS(m.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if len(keysIn) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(keysIn))
	}
	for _, k := range keysIn {
		want := time.Time{}
		if k.ID == old.ID {
			want = retiredAt
		}
		if !k.RetiredAt.Equal(want) {
			t.Errorf("JWKS: key %s retired at %v, want %v", k.ID, k.RetiredAt, want)
		}
	}
	v, err := token.NewChecker(m, token.WithIssuer("iss"), token.WithAudience("iss"), token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := v.Verify(t.Context(), signAccess(t, old, token.TypeAccess, clk.Now())); !errors.Is(err, token.ErrInvalidToken) {
		t.Fatalf("token signed by the retired key after its retirement: %v", err)
	}
	if _, err := v.Verify(t.Context(), signAccess(t, old, token.TypeAccess, retiredAt)); err != nil {
		t.Fatalf("token signed at the retirement: %v", err)
	}
}
