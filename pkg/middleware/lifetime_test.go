package middleware_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

// A token that lives longer than its issuer ever issues (minted with a
// stolen key) is refused: the bound is explicit, else the issuer's
// published lifetime, else DefaultMaxTokenLifetime, always plus the
// leeway; only a dangerously named option removes it.
func TestMaxTokenLifetime(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	srv := newJWKSServer(t, k)
	clk := newClock()
	const leeway = 5 * time.Second
	type source int
	const (
		static source = iota
		discovery
	)
	cases := []struct {
		name      string
		src       source
		published string // discovery's lifetime member, raw JSON; "" none
		opts      []middleware.Option
		life      time.Duration
		ok        bool
	}{
		{"default: 15m accepted", static, "", nil, 15 * time.Minute, true},
		{"default: 1h plus leeway accepted", static, "", nil, time.Hour + leeway, true},
		{"default: past 1h plus leeway refused", static, "", nil, time.Hour + leeway + time.Second, false},
		{"default: 30 days refused", static, "", nil, 30 * 24 * time.Hour, false},
		{"explicit 15m: 15m accepted", static, "", []middleware.Option{middleware.WithMaxTokenLifetime(15 * time.Minute)}, 15 * time.Minute, true},
		{"explicit 15m: 20m refused", static, "", []middleware.Option{middleware.WithMaxTokenLifetime(15 * time.Minute)}, 20 * time.Minute, false},
		{"explicit 2h: 90m accepted", static, "", []middleware.Option{middleware.WithMaxTokenLifetime(2 * time.Hour)}, 90 * time.Minute, true},
		{"insecure: 30 days accepted", static, "", []middleware.Option{middleware.InsecureAllowAnyTokenLifetime()}, 30 * 24 * time.Hour, true},
		{"discovery 600s: 10m accepted", discovery, "600", nil, 10 * time.Minute, true},
		{"discovery 600s: 15m refused", discovery, "600", nil, 15 * time.Minute, false},
		{"discovery 7200s: 90m accepted", discovery, "7200", nil, 90 * time.Minute, true},
		{"discovery without member: default", discovery, "", nil, 2 * time.Hour, false},
		{"discovery malformed member: default", discovery, `"600"`, nil, 50 * time.Minute, true},
		{"explicit wins over discovery", discovery, "7200", []middleware.Option{middleware.WithMaxTokenLifetime(15 * time.Minute)}, 90 * time.Minute, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.published != "" {
				srv.lifetime.Store(&c.published)
			} else {
				srv.lifetime.Store(nil)
			}
			src := middleware.WithKeySet(token.StaticKeySet{k})
			iss := testIssuer
			if c.src == discovery {
				src, iss = middleware.WithDiscovery(), srv.URL
			}
			v, err := middleware.NewVerifier(append([]middleware.Option{
				middleware.WithIssuer(iss), middleware.WithAudience(testAudience), src,
				middleware.WithLeeway(leeway), middleware.WithClock(clk.Now),
			}, c.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			raw := mint(t, k, clk.Now(), func(cl *token.Payload) {
				cl.Issuer = iss
				cl.ExpiresAt.Time = cl.IssuedAt.Add(c.life)
			})
			// Twice: the second answer may come from the verified cache.
			for i := range 2 {
				_, err := v.Verify(context.Background(), raw)
				if c.ok && err != nil {
					t.Fatalf("verify %d: %v", i, err)
				}
				if !c.ok && !errors.Is(err, middleware.ErrInvalidToken) {
					t.Fatalf("verify %d: err = %v, want ErrInvalidToken", i, err)
				}
			}
		})
	}
}

func TestMaxTokenLifetimeOptionsChecked(t *testing.T) {
	for name, opts := range map[string][]middleware.Option{
		"negative": {middleware.WithMaxTokenLifetime(-time.Second)},
		"both":     {middleware.WithMaxTokenLifetime(time.Hour), middleware.InsecureAllowAnyTokenLifetime()},
	} {
		_, err := middleware.NewVerifier(append([]middleware.Option{middleware.WithIssuer(testIssuer),
			middleware.WithAudience(testAudience), middleware.WithKeySet(token.StaticKeySet{testKey(t, token.ES256, 0)})}, opts...)...)
		if !errors.Is(err, middleware.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// A key removed from the remote JWK Set (authd revokes it) stops
// verifying once the set is refetched, cached tokens included.
func TestRemoteKeySetRevokedKeyRefusedAfterRefresh(t *testing.T) {
	leaked, fresh := testKey(t, token.ES256, 0), testKey(t, token.ES256, 1)
	srv := newJWKSServer(t, leaked, fresh)
	clk := newClock()
	rks, err := middleware.NewRemoteKeySet(context.Background(), srv.JWKSURL(), middleware.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rks.Close() })
	v, _ := cachedVerifier(t, rks, clk)
	raw := mint(t, leaked, clk.Now(), nil)
	for range 2 { // the second from the cache
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	srv.setKeys(t, fresh)
	if err := rks.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("token of the revoked key after the refresh: %v, want ErrInvalidToken", err)
	}
	if _, err := v.Verify(context.Background(), mint(t, fresh, clk.Now(), nil)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
}

// The retirement a key set reports (the JWKS member authd_retired_at)
// refuses tokens issued after it, on a full verification and on a cache
// hit when the retirement is learned after the token was cached.
func TestRetiredKeyRefusesLaterTokens(t *testing.T) {
	k := testKey(t, token.EdDSA, 0)
	clk := newClock()
	ks := &mutableKeySet{}
	ks.set(k)
	v, full := cachedVerifier(t, ks, clk)
	issued := clk.Now()
	raw := mint(t, k, issued, nil)
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	// The key set now says the key retired a minute before the token was
	// issued: the cache must not keep accepting it.
	retired := reloaded(t, k)
	retired.RetiredAt = issued.Add(-time.Minute)
	ks.set(retired)
	before := full()
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("cached token issued after its key's retirement: %v, want ErrInvalidToken", err)
	}
	if full() != before+1 {
		t.Fatalf("the cache hit was not dropped for a full verification")
	}
	// Through a remote JWKS carrying the member.
	set, err := token.NewJWKS([]*token.Key{retired})
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t)
	srv.setJWKS(t, set)
	rv, err := middleware.NewVerifier(middleware.WithIssuer(testIssuer), middleware.WithAudience(testAudience),
		middleware.WithJWKSURL(srv.JWKSURL()), middleware.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rv.Close() })
	if _, err := rv.Verify(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("remote: token issued after retirement: %v, want ErrInvalidToken", err)
	}
	if _, err := rv.Verify(context.Background(), mint(t, k, issued.Add(-2*time.Minute), nil)); err != nil {
		t.Fatalf("remote: token issued before retirement: %v", err)
	}
}
