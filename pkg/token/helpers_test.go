package token_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// Test fixtures: a fixed clock, one issuer and audience, and one key per
// algorithm, generated once per test binary (RSA generation is slow).
var (
	testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	algs    = []string{token.ES256, token.EdDSA, token.RS256}
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "https://api.example.com"
)

var testKeys = sync.OnceValue(func() map[string]*token.Key {
	m := make(map[string]*token.Key, len(algs))
	for _, alg := range algs {
		k, err := token.GenerateKey(alg)
		if err != nil {
			panic(err)
		}
		m[alg] = k
	}
	return m
})

// testKey returns the shared key for alg.
func testKey(alg string) *token.Key { return testKeys()[alg] }

// allKeys is a key set holding the shared key of every algorithm.
func allKeys() token.StaticKeySet {
	return token.StaticKeySet{testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)}
}

// clock returns a fixed time source.
func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// newVerifier returns a verifier for testIssuer and testAudience at
// testNow; opts come last and override.
func newVerifier(t testing.TB, keys token.KeySet, opts ...token.CheckerOption) *token.Checker {
	t.Helper()
	base := []token.CheckerOption{
		token.WithIssuer(testIssuer),
		token.WithAudience(testAudience),
		token.WithClock(clock(testNow)),
	}
	v, err := token.NewChecker(keys, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewChecker: %v", err)
	}
	return v
}

// accessClaims returns the claims of a valid access token at testNow.
func accessClaims() *token.Payload {
	return &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "user-42",
			Audience:  token.ClaimStrings{"https://other.example.com", testAudience},
			ID:        "jti-access-1",
			IssuedAt:  token.NewNumericDate(testNow.Add(-time.Minute)),
			ExpiresAt: token.NewNumericDate(testNow.Add(10 * time.Minute)),
		},
		SessionID: "sid-1",
		ClientID:  "client-1",
		Roles:     []string{"admin", "reader"},
		Scope:     "openid profile",
	}
}

// refreshClaims returns the claims of a valid refresh token at testNow.
func refreshClaims() *token.Payload {
	return &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "user-42",
			Audience:  token.ClaimStrings{testAudience},
			ID:        "jti-refresh-1",
			IssuedAt:  token.NewNumericDate(testNow.Add(-time.Hour)),
			ExpiresAt: token.NewNumericDate(testNow.Add(24 * time.Hour)),
		},
		SessionID: "sid-1",
	}
}

// mustSign signs with token.Sign or fails the test.
func mustSign(t testing.TB, k *token.Key, typ string, c *token.Payload) string {
	t.Helper()
	s, err := token.Sign(k, typ, c)
	if err != nil {
		t.Fatalf("Sign(%s, %s): %v", k.Algorithm, typ, err)
	}
	return s
}

// hdr is the header Sign writes for k.
func hdr(k *token.Key, typ string) map[string]any {
	return map[string]any{"alg": k.Algorithm, "typ": typ, "kid": k.ID}
}

// withHeader returns h with the given members set; a nil value deletes.
func withHeader(h map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// claimsMap returns c as a JSON object with the given members set; a nil
// value deletes.
func claimsMap(t testing.TB, c *token.Payload, kv ...any) jwt.MapClaims {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m jwt.MapClaims
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return jwt.MapClaims(withHeader(m, kv...))
}

// signRaw signs any header and claims with k's private key through
// golang-jwt directly, to build tokens Sign refuses to make.
// A *token.Payload is signed as its JSON, through claimsMap.
func signRaw(t testing.TB, k *token.Key, header map[string]any, c any) string {
	t.Helper()
	claims, ok := c.(jwt.Claims)
	if !ok {
		claims = claimsMap(t, c.(*token.Payload))
	}
	alg, _ := header["alg"].(string)
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		t.Fatalf("no signing method %q", alg)
	}
	s, err := (&jwt.Token{Method: m, Header: header, Claims: claims}).SignedString(k.Private)
	if err != nil {
		t.Fatalf("sign raw: %v", err)
	}
	return s
}

// signInput signs an exact signing input (two encoded segments) with k,
// so that encoding defects are the only thing wrong with the token.
func signInput(t testing.TB, k *token.Key, input string) string {
	t.Helper()
	sig, err := jwt.GetSigningMethod(k.Algorithm).Sign(input, k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// enc is JOSE base64url of v's JSON (or of v itself if it is a string).
func enc(t testing.TB, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// segments splits a compact JWS.
func segments(t testing.TB, tok string) (h, p, s string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// sameClaims reports the first difference between two claim sets.
func sameClaims(t testing.TB, got, want *token.Payload) {
	t.Helper()
	unix := func(d *token.NumericDate) int64 {
		if d == nil {
			return -1
		}
		return d.Unix()
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"iss", got.Issuer, want.Issuer},
		{"sub", got.Subject, want.Subject},
		{"jti", got.ID, want.ID},
		{"sid", got.SessionID, want.SessionID},
		{"client_id", got.ClientID, want.ClientID},
		{"scope", got.Scope, want.Scope},
		{"iat", unix(got.IssuedAt), unix(want.IssuedAt)},
		{"exp", unix(got.ExpiresAt), unix(want.ExpiresAt)},
		{"nbf", unix(got.NotBefore), unix(want.NotBefore)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(got.Audience, want.Audience) {
		t.Errorf("aud = %q, want %q", got.Audience, want.Audience)
	}
	if !slices.Equal(got.Roles, want.Roles) {
		t.Errorf("roles = %q, want %q", got.Roles, want.Roles)
	}
}
