package middleware_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

func TestNewVerifierConfig(t *testing.T) {
	ks := token.StaticKeySet{testKey(t, token.ES256, 0)}
	base := []middleware.Option{middleware.WithIssuer(testIssuer), middleware.WithAudience(testAudience)}
	tests := []struct {
		name string
		opts []middleware.Option
		want []string // substrings of the error; nil: valid
	}{
		{"static", append(slices.Clone(base), middleware.WithKeySet(ks)), nil},
		{"jwks url", append(slices.Clone(base), middleware.WithJWKSURL("https://auth.example.com/jwks.json")), nil},
		{"discovery", append(slices.Clone(base), middleware.WithDiscovery()), nil},
		{"nothing at all", nil, []string{"key source is required", "WithIssuer", "WithAudience"}},
		{"two key sources", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithDiscovery()), []string{"only one key source"}},
		{"nil key set", append(slices.Clone(base), middleware.WithKeySet(nil)), []string{"non-nil key set"}},
		{"bad JWKS URL", append(slices.Clone(base), middleware.WithJWKSURL("")), []string{"not an absolute"}},
		{"discovery without issuer", []middleware.Option{middleware.WithAudience(testAudience), middleware.WithDiscovery()}, []string{"issuer", "WithIssuer"}},
		{"bad key set option", append(slices.Clone(base), middleware.WithDiscovery(middleware.WithFetchTimeout(-1))), []string{"timeout"}},
		{"leeway too large", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithLeeway(time.Hour)), []string{"leeway"}},
		{"empty algorithm list", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithAllowedAlgorithms()), []string{"algorithm"}},
		{"HS256 allowed", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithAllowedAlgorithms("HS256")), []string{"HS256"}},
		{"cache off", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithVerifiedCache(0)), nil},
		{"negative cache size", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithVerifiedCache(-1)), []string{"cache size"}},
		{"unknown policy", append(slices.Clone(base), middleware.WithKeySet(ks), middleware.WithRevocation(nil, middleware.FailurePolicy(7))), []string{"policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := middleware.NewVerifier(tt.opts...)
			wantConfigError(t, err, tt.want)
			if err == nil {
				v.Close()
			}
		})
	}
	if n := remoteGoroutines(); n != 0 {
		t.Fatalf("%d RemoteKeySet goroutines left", n)
	}
}

func TestVerifyClaims(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	clk := newClock()
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience("other", testAudience),
		middleware.WithKeySet(token.StaticKeySet{k}),
		middleware.WithClock(clk.Now),
	)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	c, err := v.Verify(t.Context(), mint(t, k, now, func(c *token.Payload) {
		c.Roles = []string{"admin", "user"}
		c.Scope = "  read   write "
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "user-1" || c.SessionID != "sid-1" || c.TokenID == "" || c.ClientID != "authd" || c.Issuer != testIssuer ||
		!c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) || !slices.Equal(c.Audience, []string{testAudience}) {
		t.Fatalf("claims = %+v", c)
	}
	if got := c.Scopes(); !slices.Equal(got, []string{"read", "write"}) {
		t.Fatalf("Scopes() = %q", got)
	}
	if !c.HasScope("write") || c.HasScope("writ") || c.HasScope("") || !c.HasRole("admin") || c.HasRole("ad") || c.HasRole("") {
		t.Fatal("HasScope/HasRole wrong")
	}
	var nilClaims *middleware.Claims
	if nilClaims.Scopes() != nil || nilClaims.HasScope("read") || nilClaims.HasRole("admin") {
		t.Fatal("nil claims must have nothing")
	}

	// Expiry follows the injected clock, with the default 5s leeway.
	clk.Advance(15*time.Minute + 4*time.Second)
	if _, err := v.Verify(t.Context(), mint(t, k, now, nil)); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := v.Verify(t.Context(), mint(t, k, now, nil)); !errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, token.ErrExpired) {
		t.Fatalf("err = %v, want ErrInvalidToken and token.ErrExpired", err)
	}
	if _, err := v.Verify(t.Context(), ""); !errors.Is(err, middleware.ErrNoToken) {
		t.Fatalf("empty: err = %v, want ErrNoToken", err)
	}
}

func TestAllowedAlgorithms(t *testing.T) {
	es, ed := testKey(t, token.ES256, 0), testKey(t, token.EdDSA, 0)
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(token.StaticKeySet{es, ed}),
		middleware.WithAllowedAlgorithms(token.EdDSA),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), mint(t, ed, time.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), mint(t, es, time.Now(), nil)); !errors.Is(err, token.ErrUnsupportedAlg) {
		t.Fatalf("ES256 when only EdDSA is allowed: err = %v", err)
	}
}

func TestFailurePolicyString(t *testing.T) {
	for p, want := range map[middleware.FailurePolicy]string{
		middleware.FailClosed: "FailClosed", middleware.FailOpen: "FailOpen", 9: "FailurePolicy(9)",
	} {
		if got := p.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
