package middleware_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

// jwkMap returns k's public JWK as a JSON object, as a header would carry
// it.
func jwkMap(t *testing.T, k *token.Key) map[string]any {
	t.Helper()
	set, err := token.NewJWKS([]*token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(set.Keys[0])
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func publicPEM(t *testing.T, k *token.Key) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestVerifierRefuses runs the attacks and near misses a verifier must
// refuse through a Verifier whose keys come from a remote JWK Set over
// loopback.
func TestVerifierRefuses(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	es, ed, rs := testKey(t, token.ES256, 0), testKey(t, token.EdDSA, 0), testKey(t, token.RS256, 0)
	encKey, wrongAlgKey := testKey(t, token.ES256, 1), testKey(t, token.ES256, 2)
	foreign, foreignEd := testKey(t, token.ES256, 3), testKey(t, token.EdDSA, 1)

	// The published set: three usable keys, one encryption key and one EC
	// key that claims to be EdDSA; ParseJWKS must drop the last two.
	set, err := token.NewJWKS([]*token.Key{es, ed, rs, encKey, wrongAlgKey})
	if err != nil {
		t.Fatal(err)
	}
	set.Keys[3].Use = "enc"
	set.Keys[4].Alg = token.EdDSA
	srv := newJWKSServer(t, es)
	srv.setJWKS(t, set)

	// An attacker's server for jku/x5u: it must never be contacted.
	var attackerHits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkMap(t, foreign)}})
		_, _ = w.Write(b)
	}))
	defer attacker.Close()

	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithJWKSURL(srv.JWKSURL()),
		middleware.WithClock(clk.Now),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	claims := accessClaims(now)
	at := func(kid any) map[string]any { return map[string]any{"typ": token.TypeAccess, "kid": kid} }
	with := func(h map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			h[kv[i].(string)] = kv[i+1]
		}
		return h
	}
	refreshClaims := accessClaims(now)
	refreshClaims.Audience = token.ClaimStrings{testIssuer}
	refresh, err := token.Sign(es, token.TypeRefresh, refreshClaims)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		raw  string
		want error // nil: accepted; else the token sentinel it must match
	}{
		{"valid ES256", mint(t, es, now, nil), nil},
		{"valid EdDSA", mint(t, ed, now, nil), nil},
		{"valid RS256", mint(t, rs, now, nil), nil},
		{"typ application/at+jwt", forge(t, jwt.SigningMethodES256, with(at(es.ID), "typ", "application/at+jwt"), claims, es.Private), nil},

		{"refresh token", refresh, token.ErrWrongType},
		{"refresh token with access audience", forge(t, jwt.SigningMethodES256, with(at(es.ID), "typ", token.TypeRefresh), claims, es.Private), token.ErrWrongType},
		{"typ JWT", forge(t, jwt.SigningMethodES256, with(at(es.ID), "typ", "JWT"), claims, es.Private), token.ErrWrongType},
		{"no typ", forge(t, jwt.SigningMethodES256, with(at(es.ID), "typ", nil), claims, es.Private), token.ErrWrongType},
		{"alg none", forge(t, jwt.SigningMethodNone, at(es.ID), claims, jwt.UnsafeAllowNoneSignatureType), token.ErrUnsupportedAlg},
		{"HS256 keyed with the ES256 public PEM", forge(t, jwt.SigningMethodHS256, at(es.ID), claims, publicPEM(t, es)), token.ErrUnsupportedAlg},
		{"HS256 keyed with the RS256 public PEM", forge(t, jwt.SigningMethodHS256, at(rs.ID), claims, publicPEM(t, rs)), token.ErrUnsupportedAlg},
		{"PS256 with the RSA key", forge(t, jwt.SigningMethodPS256, at(rs.ID), claims, rs.Private), token.ErrUnsupportedAlg},
		{"ES256 header on the EdDSA key's kid", forge(t, jwt.SigningMethodES256, at(ed.ID), claims, foreign.Private), token.ErrUnsupportedAlg},
		{"EdDSA header on the ES256 key's kid", forge(t, jwt.SigningMethodEdDSA, at(es.ID), claims, foreignEd.Private), token.ErrUnsupportedAlg},
		{"foreign key, known kid", forge(t, jwt.SigningMethodES256, at(es.ID), claims, foreign.Private), token.ErrInvalidToken},
		{"foreign key, own kid, embedded jwk", forge(t, jwt.SigningMethodES256, with(at(foreign.ID), "jwk", jwkMap(t, foreign)), claims, foreign.Private), token.ErrUnknownKey},
		{"foreign key, no kid, embedded jwk", forge(t, jwt.SigningMethodES256, with(at(nil), "jwk", jwkMap(t, foreign)), claims, foreign.Private), token.ErrUnknownKey},
		{"foreign key, jku to attacker", forge(t, jwt.SigningMethodES256, with(at(foreign.ID), "jku", attacker.URL), claims, foreign.Private), token.ErrUnknownKey},
		{"foreign key, x5u to attacker", forge(t, jwt.SigningMethodES256, with(at(foreign.ID), "x5u", attacker.URL), claims, foreign.Private), token.ErrUnknownKey},
		{"unknown crit", forge(t, jwt.SigningMethodES256, with(at(es.ID), "crit", []string{"urn:x"}, "urn:x", 1), claims, es.Private), token.ErrInvalidToken},
		{"empty crit", forge(t, jwt.SigningMethodES256, with(at(es.ID), "crit", []string{}), claims, es.Private), token.ErrInvalidToken},
		{"no kid with several keys", forge(t, jwt.SigningMethodES256, at(nil), claims, es.Private), token.ErrUnknownKey},
		{"kid not a string", forge(t, jwt.SigningMethodES256, at(42), claims, es.Private), token.ErrUnknownKey},
		{"key published with use enc", mint(t, encKey, now, nil), token.ErrUnknownKey},
		{"key whose JWK alg is not the token's", mint(t, wrongAlgKey, now, nil), token.ErrUnknownKey},
		{"expired", mint(t, es, now.Add(-time.Hour), nil), token.ErrExpired},
		{"issued in the future", mint(t, es, now.Add(time.Minute), nil), token.ErrNotYetValid},
		{"wrong issuer", mint(t, es, now, func(c *token.Payload) { c.Issuer = "https://evil.example.com" }), token.ErrInvalidToken},
		{"wrong audience", mint(t, es, now, func(c *token.Payload) { c.Audience = token.ClaimStrings{"https://other.example.com"} }), token.ErrInvalidToken},
		{"no jti", forge(t, jwt.SigningMethodES256, at(es.ID), func() *token.Payload { c := accessClaims(now); c.ID = ""; return c }(), es.Private), token.ErrInvalidToken},
		{"tampered payload", func() string {
			raw := mint(t, es, now, nil)
			other := mint(t, es, now, func(c *token.Payload) { c.Subject = "admin" })
			return raw[:indexDot(raw)] + other[indexDot(other):lastDot(other)] + raw[lastDot(raw):]
		}(), token.ErrInvalidToken},
		{"garbage", "not.a.jwt", token.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), tt.raw)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "user-1" {
					t.Fatalf("subject = %q", c.Subject)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			if !errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, tt.want) || errors.Is(err, middleware.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrInvalidToken and %v, not ErrUnavailable", err, tt.want)
			}
			if got := middleware.ResponseFor(err).Status; got != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", got)
			}
		})
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("the attacker's server was contacted %d times", n)
	}
	// One fetch, then at most one refetch for the unknown kids: the clock
	// does not move, so the rate limit holds for the whole table.
	if n := srv.jwksHits.Load(); n < 1 || n > 2 {
		t.Errorf("JWKS fetched %d times, want 1 or 2", n)
	}
}

func indexDot(s string) int {
	for i := range len(s) {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
