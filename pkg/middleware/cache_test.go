package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

// mutableKeySet is a key set whose keys a test changes, as a JWKS refresh
// or authd's key ring reload would.
type mutableKeySet struct {
	mu   sync.Mutex
	keys token.StaticKeySet
	err  error // returned by every lookup when set
}

func (m *mutableKeySet) set(keys ...*token.Key) {
	m.mu.Lock()
	m.keys, m.err = keys, nil
	m.mu.Unlock()
}

func (m *mutableKeySet) fail(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

func (m *mutableKeySet) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	m.mu.Lock()
	keys, err := m.keys, m.err
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return keys.VerificationKey(ctx, kid)
}

// cachedVerifier returns a Verifier on ks and clk that counts its full
// verifications.
func cachedVerifier(t testing.TB, ks token.KeySet, clk *clock, opts ...middleware.Option) (*middleware.Verifier, func() int64) {
	t.Helper()
	v := testVerifier(t, ks, append([]middleware.Option{middleware.WithClock(clk.Now)}, opts...)...)
	n := middleware.CountVerifications(v)
	return v, n.Load
}

// wantCacheLen fails the test unless v's cache holds want tokens.
func wantCacheLen(t *testing.T, v *middleware.Verifier, want int) {
	t.Helper()
	if got := middleware.CacheLen(v); got != want {
		t.Fatalf("CacheLen = %d, want %d", got, want)
	}
}

// reloaded returns a new Key object equal to k, as a key set that rebuilds
// its keys on every reload returns.
func reloaded(t testing.TB, k *token.Key) *token.Key {
	t.Helper()
	der, err := k.MarshalPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := token.ParsePublicKey(k.ID, k.Algorithm, der)
	if err != nil {
		t.Fatal(err)
	}
	return k2
}

// TestVerifiedCacheHit: a repeated token skips the signature check and
// gets the same claims the full verification gave.
func TestVerifiedCacheHit(t *testing.T) {
	for _, alg := range benchAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg, 0)
			clk := newClock()
			v, full := cachedVerifier(t, token.StaticKeySet{k}, clk)
			raw := mint(t, k, clk.Now(), func(c *token.Payload) { c.Roles = []string{"admin", "user"} })
			first, err := v.Verify(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				again, err := v.Verify(t.Context(), raw)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(again, first) {
					t.Fatalf("cached claims %+v, want %+v", again, first)
				}
				if again == first {
					t.Fatal("the cache handed out the same *Claims twice")
				}
			}
			if got := full(); got != 1 {
				t.Fatalf("%d full verifications for 4 Verify calls, want 1", got)
			}
			wantCacheLen(t, v, 1)
		})
	}
}

// TestVerifiedCacheClaimsAreCopies: what a caller does to its claims
// never reaches the cache or another caller.
func TestVerifiedCacheClaimsAreCopies(t *testing.T) {
	k := testKey(t, token.EdDSA, 0)
	clk := newClock()
	v, _ := cachedVerifier(t, token.StaticKeySet{k}, clk)
	raw := mint(t, k, clk.Now(), func(c *token.Payload) {
		c.Roles = []string{"user", "reader"}
		c.AMR = []string{"pwd", "otp"}
	})
	for i := range 3 { // the first from the full path, then from the cache
		c, err := v.Verify(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "user-1" || !reflect.DeepEqual(c.Roles, []string{"user", "reader"}) || !reflect.DeepEqual(c.Audience, []string{testAudience}) ||
			!reflect.DeepEqual(c.AMR, []string{"pwd", "otp"}) {
			t.Fatalf("call %d: claims %+v were changed by an earlier caller", i, c)
		}
		c.Subject = "mallory"
		c.Roles[0] = "admin"
		c.AMR[1] = "hwk"
		c.Audience[0] = "elsewhere"
		c.Audience = append(c.Audience, "more")
		c.Roles = append(c.Roles, "root")
		c.AMR = append(c.AMR, "face")
	}
}

// TestVerifiedCacheLifetime: a cached token is held to exp, nbf and iat by
// the Verifier's clock and leeway on every hit, exactly as an uncached one.
func TestVerifiedCacheLifetime(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	clk := newClock()
	start := clk.Now()
	v, full := cachedVerifier(t, token.StaticKeySet{k}, clk)
	ctx := t.Context()
	raw := mint(t, k, start, nil) // exp = start + 15m
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}

	clk.Set(start.Add(15*time.Minute + token.DefaultLeeway - time.Second))
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	if got := full(); got != 1 {
		t.Fatalf("%d full verifications within the lifetime, want 1", got)
	}
	clk.Advance(time.Second) // now = exp + leeway: expired
	for range 2 {
		if _, err := v.Verify(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, token.ErrExpired) {
			t.Fatalf("expired cached token: err = %v, want ErrInvalidToken and token.ErrExpired", err)
		}
	}
	if got := middleware.CacheLen(v); got != 0 {
		t.Fatalf("CacheLen = %d after expiry, want 0 (dropped, not refilled)", got)
	}

	// nbf: valid once the clock reaches nbf - leeway; a clock set back
	// below that refuses the cached token again.
	clk.Set(start)
	nbf := mint(t, k, start, func(c *token.Payload) { c.NotBefore = token.NewNumericDate(start.Add(time.Minute)) })
	clk.Set(start.Add(time.Minute))
	if _, err := v.Verify(ctx, nbf); err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(time.Minute - token.DefaultLeeway - time.Second))
	if _, err := v.Verify(ctx, nbf); !errors.Is(err, token.ErrNotYetValid) {
		t.Fatalf("cached token before nbf: err = %v, want token.ErrNotYetValid", err)
	}

	// iat: a token issued "later" than the clock, once the clock goes back.
	clk.Set(start)
	iat := mint(t, k, start, nil)
	if _, err := v.Verify(ctx, iat); err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(-token.DefaultLeeway - time.Second))
	if _, err := v.Verify(ctx, iat); !errors.Is(err, token.ErrNotYetValid) {
		t.Fatalf("cached token before its iat: err = %v, want token.ErrNotYetValid", err)
	}
}

// TestVerifiedCacheRevocation: the revocation check runs on every hit.
func TestVerifiedCacheRevocation(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	clk := newClock()
	dl := denylist.NewMemory(denylist.WithClock(clk.Now))
	v, full := cachedVerifier(t, token.StaticKeySet{k}, clk, middleware.WithRevocation(dl, middleware.FailClosed))
	ctx := t.Context()
	now := clk.Now()
	until := now.Add(time.Hour)
	tokenOf := func(jti, sid, sub string) string {
		return mint(t, k, now.Add(-time.Minute), func(c *token.Payload) { c.ID, c.SessionID, c.Subject = jti, sid, sub })
	}
	tests := []struct {
		name   string
		raw    string
		revoke func() error
	}{
		{"jti", tokenOf("j1", "s1", "u1"), func() error { return dl.RevokeToken(ctx, "u1", "j1", until) }},
		{"sid", tokenOf("j2", "s2", "u2"), func() error { return dl.RevokeSessions(ctx, "u2", []string{"s2"}, until) }},
		{"user cutoff", tokenOf("j3", "s3", "u3"), func() error { return dl.RevokeUserBefore(ctx, "u3", now, until) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := full()
			if _, err := v.Verify(ctx, tt.raw); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, tt.raw); err != nil { // cached now
				t.Fatal(err)
			}
			if err := tt.revoke(); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := v.Verify(ctx, tt.raw); !errors.Is(err, middleware.ErrRevoked) {
					t.Fatalf("revoked cached token: err = %v, want ErrRevoked", err)
				}
			}
			if got := full() - before; got != 1 {
				t.Fatalf("%d full verifications, want 1: the revoked token should still come from the cache", got)
			}
		})
	}

	t.Run("denylist down, FailClosed", func(t *testing.T) {
		down := checkerFunc(func(context.Context, denylist.Token) error {
			return fmt.Errorf("%w: test outage", denylist.ErrUnavailable)
		})
		v, full := cachedVerifier(t, token.StaticKeySet{k}, clk, middleware.WithRevocation(down, middleware.FailClosed))
		raw := mint(t, k, now, nil)
		for range 2 { // a miss, then a hit: the check fails closed on both
			if _, err := v.Verify(ctx, raw); !errors.Is(err, middleware.ErrUnavailable) || errors.Is(err, middleware.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		}
		if got := full(); got != 1 {
			t.Fatalf("%d full verifications, want 1", got)
		}
	})
}

// checkerFunc adapts a function to denylist.Checker.
type checkerFunc func(context.Context, denylist.Token) error

func (f checkerFunc) Check(ctx context.Context, t denylist.Token) error { return f(ctx, t) }

// TestVerifiedCacheKeySetChanges: a cached token passes only while its kid
// still gives the key that verified it.
func TestVerifiedCacheKeySetChanges(t *testing.T) {
	k, other := testKey(t, token.ES256, 0), testKey(t, token.ES256, 1)
	ed := testKey(t, token.EdDSA, 0)
	withKid := func(c *clock) string { return mint(t, k, c.Now(), nil) }
	withoutKid := func(c *clock) string {
		return forge(t, jwt.SigningMethodES256, map[string]any{"typ": token.TypeAccess}, accessClaims(c.Now()), k.Private)
	}
	tests := []struct {
		name    string
		initial []*token.Key
		raw     func(clk *clock) string
		change  func(ks *mutableKeySet)
		want    error // nil: still passes from the cache
	}{
		{"key reloaded as an equal object", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) { ks.set(reloaded(t, k), other) }, nil},
		{"other key added", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) { ks.set(k, other, ed) }, nil},
		{"key removed", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) { ks.set(other) }, token.ErrUnknownKey},
		{"key replaced under the same kid", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) {
				ks.set(&token.Key{ID: k.ID, Algorithm: k.Algorithm, Public: other.Public}, other)
			}, token.ErrInvalidToken},
		{"algorithm changed under the same kid", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) {
				ks.set(&token.Key{ID: k.ID, Algorithm: token.EdDSA, Public: ed.Public}, other)
			}, token.ErrUnsupportedAlg},
		{"key set unavailable", []*token.Key{k, other}, withKid,
			func(ks *mutableKeySet) { ks.fail(fmt.Errorf("%w: test outage", token.ErrKeySetUnavailable)) }, middleware.ErrUnavailable},
		{"token without kid, one key reloaded", []*token.Key{k}, withoutKid,
			func(ks *mutableKeySet) { ks.set(reloaded(t, k)) }, nil},
		{"token without kid, second key added", []*token.Key{k}, withoutKid,
			func(ks *mutableKeySet) { ks.set(k, other) }, token.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := &mutableKeySet{}
			ks.set(tt.initial...)
			clk := newClock()
			v, full := cachedVerifier(t, ks, clk)
			raw := tt.raw(clk)
			for range 2 {
				if _, err := v.Verify(t.Context(), raw); err != nil {
					t.Fatal(err)
				}
			}
			tt.change(ks)
			_, err := v.Verify(t.Context(), raw)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("after the change: %v", err)
			case tt.want == nil && full() != 1:
				t.Fatalf("%d full verifications, want 1 (a cache hit)", full())
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("after the change: err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifiedCacheRefusalsNotCached: only tokens that verified are kept.
func TestVerifiedCacheRefusalsNotCached(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	clk := newClock()
	v, full := cachedVerifier(t, token.StaticKeySet{k}, clk)
	good := mint(t, k, clk.Now(), nil)
	dot := strings.LastIndexByte(good, '.')
	tests := []struct {
		name string
		raw  string
	}{
		{"bad signature", good[:dot+1] + strings.Repeat("A", len(good)-dot-1)},
		{"expired", mint(t, k, clk.Now().Add(-time.Hour), nil)},
		{"wrong audience", mint(t, k, clk.Now(), func(c *token.Payload) { c.Audience = token.ClaimStrings{"other"} })},
		{"not a JWT", "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := full()
			for range 2 {
				if _, err := v.Verify(t.Context(), tt.raw); !errors.Is(err, middleware.ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrInvalidToken", err)
				}
			}
			if got := full() - before; got != 2 {
				t.Fatalf("%d full verifications for 2 calls, want 2", got)
			}
		})
	}
	wantCacheLen(t, v, 0)
}

// TestVerifiedCacheSize: the cache never holds more than its size, and
// size 0 turns it off.
func TestVerifiedCacheSize(t *testing.T) {
	k := testKey(t, token.EdDSA, 0)
	clk := newClock()
	toks := make([]string, 1200)
	for i := range toks {
		toks[i] = mint(t, k, clk.Now(), func(c *token.Payload) { c.ID = fmt.Sprint("jti-", i) })
	}
	for _, size := range []int{1, 50, 1000} { // 1000: sharded
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			v, full := cachedVerifier(t, token.StaticKeySet{k}, clk, middleware.WithVerifiedCache(size))
			for _, raw := range toks {
				if _, err := v.Verify(t.Context(), raw); err != nil {
					t.Fatal(err)
				}
				if n := middleware.CacheLen(v); n > size {
					t.Fatalf("CacheLen = %d, over the size %d", n, size)
				}
			}
			if n := middleware.CacheLen(v); n < size*9/10 {
				t.Errorf("CacheLen = %d after %d tokens, want close to the size %d", n, len(toks), size)
			}
			last := toks[len(toks)-1] // just stored: evicted only by a later insert
			before := full()
			if _, err := v.Verify(t.Context(), last); err != nil {
				t.Fatal(err)
			}
			if full() != before {
				t.Error("the token just verified was not served from the cache")
			}
		})
	}
	t.Run("0 disables", func(t *testing.T) {
		v, full := cachedVerifier(t, token.StaticKeySet{k}, clk, middleware.WithVerifiedCache(0))
		for range 3 {
			if _, err := v.Verify(t.Context(), toks[0]); err != nil {
				t.Fatal(err)
			}
		}
		if got := full(); got != 3 {
			t.Fatalf("%d full verifications with the cache off, want 3", got)
		}
	})
}

// TestVerifiedCacheEvictsExpiredFirst: a full cache drops expired entries
// before live ones.
func TestVerifiedCacheEvictsExpiredFirst(t *testing.T) {
	k := testKey(t, token.EdDSA, 0)
	clk := newClock()
	start := clk.Now()
	v, full := cachedVerifier(t, token.StaticKeySet{k}, clk, middleware.WithVerifiedCache(4))
	short := func(i int) string {
		return mint(t, k, start, func(c *token.Payload) {
			c.ID = fmt.Sprint("short-", i)
			c.ExpiresAt = token.NewNumericDate(start.Add(time.Minute))
		})
	}
	live := mint(t, k, start, nil) // exp = start + 15m
	for _, raw := range []string{short(0), short(1), short(2), live} {
		if _, err := v.Verify(t.Context(), raw); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute) // the short ones have expired
	for i := range 3 {
		if _, err := v.Verify(t.Context(), mint(t, k, clk.Now(), func(c *token.Payload) { c.ID = fmt.Sprint("new-", i) })); err != nil {
			t.Fatal(err)
		}
	}
	before := full()
	if _, err := v.Verify(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	if full() != before {
		t.Error("a live entry was evicted while expired ones remained")
	}
}

// TestVerifiedCacheHitAllocs: a hit allocates only the caller's copy of
// the claims (the struct and one array for audience and roles).
func TestVerifiedCacheHitAllocs(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	clk := newClock()
	v, _ := cachedVerifier(t, token.StaticKeySet{k}, clk)
	raw := mint(t, k, clk.Now(), nil)
	ctx := t.Context()
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = v.Verify(ctx, raw) }); n > 2 {
		t.Fatalf("a cache hit allocates %v times, want at most 2", n)
	}
}

// TestVerifiedCacheConcurrent runs hits, misses, evictions, expiry and key
// changes at once; run with -race.
func TestVerifiedCacheConcurrent(t *testing.T) {
	k, other := testKey(t, token.EdDSA, 0), testKey(t, token.EdDSA, 1)
	clk := newClock()
	start := clk.Now()
	ks := &mutableKeySet{}
	ks.set(k, other)
	k2 := reloaded(t, k)
	v, _ := cachedVerifier(t, ks, clk, middleware.WithVerifiedCache(8))
	const tokens = 24
	toks := make([]string, tokens)
	for i := range toks {
		signer := k
		if i%2 == 1 {
			signer = other
		}
		toks[i] = mint(t, signer, start, func(c *token.Payload) {
			c.Subject = fmt.Sprint("user-", i)
			c.Roles = []string{"r"}
		})
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for n := range 300 {
				i := (g*7 + n) % tokens
				c, err := v.Verify(ctx, toks[i])
				if err != nil {
					// Only the odd tokens may fail, and only while their
					// key is out of the set.
					if i%2 == 0 || !errors.Is(err, token.ErrUnknownKey) {
						errs <- fmt.Errorf("token %d: %w", i, err)
						return
					}
					continue
				}
				if c.Subject != fmt.Sprint("user-", i) || len(c.Roles) != 1 || c.Roles[0] != "r" {
					errs <- fmt.Errorf("token %d: claims %+v", i, c)
					return
				}
				c.Roles[0] = "changed"
			}
		})
	}
	wg.Go(func() {
		for n := range 50 {
			if n%2 == 0 {
				ks.set(k)
			} else {
				ks.set(k2, other)
			}
			clk.Advance(time.Millisecond)
			time.Sleep(100 * time.Microsecond)
		}
		ks.set(k, other)
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := middleware.CacheLen(v); n > 8 {
		t.Fatalf("CacheLen = %d, over the size 8", n)
	}
}
