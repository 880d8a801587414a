package keys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/teststore"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/authd/authd/pkg/token"
)

func sqliteStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return teststore.SQLite(t)
}

func postgresStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return teststore.Open(t, testenv.Postgres(t))
}

func manager(t *testing.T, s keys.Store, clock func() time.Time) *keys.Manager {
	t.Helper()
	return newManager(t, s, keys.Config{Algorithm: token.ES256, Clock: clock})
}

// newManager returns a Manager on s with cfg, whose MasterKey (32 zero
// bytes) and MaxTokenLifetime (an hour) default to the tests' own.
func newManager(t *testing.T, s keys.Store, cfg keys.Config) *keys.Manager {
	t.Helper()
	if cfg.MasterKey == nil {
		cfg.MasterKey = make([]byte, 32)
	}
	if cfg.MaxTokenLifetime == 0 {
		cfg.MaxTokenLifetime = time.Hour
	}
	m, err := keys.New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ensure creates m's first key.
func ensure(t *testing.T, m *keys.Manager) {
	t.Helper()
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Replicas starting together create one key, not one each.
func TestConcurrentEnsureCreatesOneKey(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *sqlstore.Store{"sqlite": sqliteStore, "postgres": postgresStore} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = manager(t, s, time.Now).Ensure(t.Context())
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			ks, err := s.SigningKeys(t.Context(), time.Now())
			if err != nil || len(ks) != 1 {
				t.Fatalf("want exactly 1 key, got %d (%v)", len(ks), err)
			}
		})
	}
}

func TestRotatePublishesBothAndSignsWithNew(t *testing.T) {
	s := sqliteStore(t)
	now := time.Now()
	m := manager(t, s, func() time.Time { return now })
	ensure(t, m)
	old, _ := m.SigningKey()
	fresh, err := m.Rotate(t.Context()) // PublishAhead 0: signs at once
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := m.SigningKey(); cur.ID != fresh.ID || cur.ID == old.ID {
		t.Fatalf("signer = %s, want the new key %s", cur.ID, fresh.ID)
	}
	var set token.JWKS
	if err := json.Unmarshal(m.JWKS(), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS = %s (%v), want both keys", m.JWKS(), err)
	}
	// Another replica sharing the store sees the same signer after Reload.
	other := manager(t, s, func() time.Time { return now })
	if err := other.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if k, _ := other.SigningKey(); k.ID != fresh.ID {
		t.Fatalf("replica signer = %s, want %s", k.ID, fresh.ID)
	}
	// Past the retired key's lifetime it leaves the JWKS.
	now = now.Add(time.Hour + time.Second)
	if err := m.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := m.KeyIDs(); len(ids) != 1 || ids[0] != fresh.ID {
		t.Fatalf("after expiry key ids = %v, want only %s", ids, fresh.ID)
	}
}

func TestWrongMasterKeyIsAClearError(t *testing.T) {
	s := sqliteStore(t)
	if err := manager(t, s, time.Now).Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	other, _ := keys.New(s, keys.Config{Algorithm: token.ES256, MasterKey: []byte("0123456789abcdef0123456789abcdef"), MaxTokenLifetime: time.Hour})
	err := other.Reload(t.Context())
	if err == nil || !strings.Contains(err.Error(), "AUTHD_MASTER_KEY") {
		t.Fatalf("err = %v, want a message naming AUTHD_MASTER_KEY", err)
	}
}

// countingStore counts SigningKeys reads to observe reloads.
type countingStore struct {
	keys.Store
	reads atomic.Int64
}

func (c *countingStore) SigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error) {
	c.reads.Add(1)
	return c.Store.SigningKeys(ctx, now)
}

// A flood of unknown kids costs at most one reload per interval.
func TestUnknownKidReloadIsRateLimited(t *testing.T) {
	cs := &countingStore{Store: sqliteStore(t)}
	now := time.Now()
	m := newManager(t, cs, keys.Config{Algorithm: token.ES256,
		Clock: func() time.Time { return now }, UnknownKidReloadInterval: 5 * time.Second})
	ensure(t, m)
	base := cs.reads.Load()
	for range 1000 {
		if _, err := m.VerificationKey(t.Context(), "made-up"); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := cs.reads.Load() - base; n != 0 {
		t.Fatalf("%d reloads within the interval after Ensure, want 0", n)
	}
	now = now.Add(6 * time.Second)
	for range 1000 {
		_, _ = m.VerificationKey(t.Context(), "made-up")
	}
	if n := cs.reads.Load() - base; n != 1 {
		t.Fatalf("%d reloads after the interval, want 1", n)
	}
	// A key created elsewhere is found through that one reload.
	other := manager(t, cs.Store, func() time.Time { return now })
	k, err := other.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * time.Second)
	if got, err := m.VerificationKey(t.Context(), k.ID); err != nil || got.ID != k.ID {
		t.Fatalf("new key not found after reload: %v", err)
	}
}

// A scheduled rotation publishes the new key first and signs with it only
// after PublishAhead; tokens of the old key keep verifying.
func TestScheduledRotationPublishesAhead(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *sqlstore.Store{"sqlite": sqliteStore, "postgres": postgresStore} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			var mu sync.Mutex
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			newReplica := func() *keys.Manager {
				return newManager(t, s, keys.Config{Algorithm: token.ES256,
					MaxTokenLifetime: 2 * time.Hour, PublishAhead: 10 * time.Minute, Clock: clock})
			}
			a, b := newReplica(), newReplica()
			ensure(t, a)
			old, _ := a.SigningKey()

			// Not due yet: nothing happens.
			if k, err := a.RotateIfDue(t.Context(), 24*time.Hour); err != nil || k != nil {
				t.Fatalf("rotation before due: %v %v", k, err)
			}
			advance(24 * time.Hour)

			// Both replicas find the rotation due at once: one key results.
			var wg sync.WaitGroup
			var created atomic.Int32
			for _, m := range []*keys.Manager{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k, err := m.RotateIfDue(t.Context(), 24*time.Hour)
					if err != nil {
						t.Error(err)
					}
					if k != nil {
						created.Add(1)
					}
				}()
			}
			wg.Wait()
			if created.Load() != 1 {
				t.Fatalf("%d keys created by two replicas, want 1", created.Load())
			}
			if err := b.Reload(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, m := range []*keys.Manager{a, b} {
				if len(m.KeyIDs()) != 2 {
					t.Fatalf("new key not published: %v", m.KeyIDs())
				}
				// Published, but not signing yet.
				if k, _ := m.SigningKey(); k.ID != old.ID {
					t.Fatalf("a replica signs with the new key before it is published long enough")
				}
			}
			tok := mustSign(t, a, clock())
			advance(10 * time.Minute)
			for _, m := range []*keys.Manager{a, b} {
				if k, _ := m.SigningKey(); k.ID == old.ID {
					t.Fatal("new key not signing after PublishAhead")
				}
			}
			// A token signed before the rotation still verifies with the ring.
			v, err := token.NewChecker(b, token.WithIssuer("iss"), token.WithAudience("aud"), token.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Fatalf("token of the previous key refused after rotation: %v", err)
			}
		})
	}
}

// claimsAt are the claims of the tokens mustSign and mustMAC mint: for
// aud, issued at now, for an hour.
func claimsAt(now time.Time, aud string) token.RegisteredClaims {
	return token.RegisteredClaims{
		Issuer: "iss", Subject: "u1", Audience: token.ClaimStrings{aud}, ID: "j1",
		IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(now.Add(time.Hour)),
	}
}

func mustSign(t *testing.T, m *keys.Manager, now time.Time) string {
	t.Helper()
	k, err := m.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := token.Sign(k, token.TypeAccess, &token.Payload{RegisteredClaims: claimsAt(now, "aud")})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mustMAC mints a refresh token with the manager's current refresh key.
func mustMAC(t *testing.T, m *keys.Manager, now time.Time) string {
	t.Helper()
	k, err := m.RefreshKey()
	if err != nil {
		t.Fatal(err)
	}
	p := &token.Payload{RegisteredClaims: claimsAt(now, "iss"), SessionID: "s1"}
	tok, err := token.SignMAC(k, token.TypeRefresh, p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The refresh MAC key belongs to the signing key: it switches when the
// signer does, stays usable while the retired signing key is published,
// and every replica sharing the store and master key derives the same one.
func TestRefreshKeyFollowsTheSigner(t *testing.T) {
	s := sqliteStore(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a, b := manager(t, s, clock), manager(t, s, clock)
	ensure(t, a)
	if err := b.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	signer, _ := a.SigningKey()
	rk, err := a.RefreshKey()
	if err != nil || rk.ID != keys.RefreshKeyID(signer.ID) || rk.ID == signer.ID {
		t.Fatalf("refresh key %v (%v), want %s", rk, err, keys.RefreshKeyID(signer.ID))
	}
	verifier := func(m *keys.Manager) *token.Checker {
		v, err := token.NewChecker(m, token.WithIssuer("iss"), token.WithAudience("iss"),
			token.WithType(token.TypeRefresh), token.WithMACKeys(m), token.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := mustMAC(t, a, clock())
	if _, err := verifier(b).Verify(t.Context(), before); err != nil {
		t.Fatalf("a replica refuses the other's refresh token: %v", err)
	}

	// Another deployment (its own store and master key) knows no such kid.
	other := newManager(t, sqliteStore(t), keys.Config{Algorithm: token.ES256, MasterKey: bytes.Repeat([]byte{9}, 32), Clock: clock})
	ensure(t, other)
	if _, err := verifier(other).Verify(t.Context(), before); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("another deployment's ring: err = %v, want ErrUnknownKey", err)
	}

	// b rotates now; a learns of the new key only through the unknown kid.
	fresh, err := b.RotateNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rk, _ := b.RefreshKey(); rk.ID != keys.RefreshKeyID(fresh.ID) {
		t.Fatalf("after rotation refresh key %s, want %s", rk.ID, keys.RefreshKeyID(fresh.ID))
	}
	after := mustMAC(t, b, clock())
	advance(6 * time.Second) // past UnknownKidReloadInterval
	for name, tok := range map[string]string{"before rotation": before, "after rotation": after} {
		if _, err := verifier(a).Verify(t.Context(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// Made-up kids are unknown, with or without the prefix.
	for _, kid := range []string{"", "r.", "r.nope", signer.ID, "x" + keys.RefreshKeyID(signer.ID)} {
		if k, err := a.MACKey(t.Context(), kid); k != nil || !errors.Is(err, token.ErrUnknownKey) {
			t.Errorf("MACKey(%q) = %v, %v; want ErrUnknownKey", kid, k, err)
		}
	}
	// Past the retired key's lifetime its MAC key is gone with it.
	advance(time.Hour + time.Second)
	if err := a.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if k, err := a.MACKey(t.Context(), keys.RefreshKeyID(signer.ID)); k != nil || err == nil {
		t.Fatalf("retired key's MAC key still served: %v", k)
	}
}
