package token_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/token"
)

func TestSignHeader(t *testing.T) {
	for _, alg := range algs {
		for _, typ := range []string{token.TypeAccess, token.TypeRefresh} {
			t.Run(alg+"/"+typ, func(t *testing.T) {
				k := testKey(alg)
				c := accessClaims()
				raw := mustSign(t, k, typ, c)
				h, _, _ := segments(t, raw)
				b, err := base64.RawURLEncoding.DecodeString(h)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"alg": alg, "typ": typ, "kid": k.ID}
				if !maps.Equal(got, want) {
					t.Errorf("header = %v, want exactly %v", got, want)
				}
			})
		}
	}
}

func TestSignDoesNotModifyClaims(t *testing.T) {
	c := accessClaims()
	before, _ := json.Marshal(c)
	mustSign(t, testKey(token.EdDSA), token.TypeAccess, c)
	after, _ := json.Marshal(c)
	if string(before) != string(after) {
		t.Errorf("claims changed: %s -> %s", before, after)
	}
}

func TestSignRefuses(t *testing.T) {
	ek := testKey(token.ES256)
	edit := func(f func(*token.Payload)) *token.Payload {
		c := accessClaims()
		f(c)
		return c
	}
	tests := []struct {
		name    string
		key     *token.Key
		typ     string
		claims  *token.Payload
		want    error
		mention string
	}{
		{"nil key", nil, token.TypeAccess, accessClaims(), token.ErrNoPrivateKey, ""},
		{"public key only", &token.Key{ID: ek.ID, Algorithm: token.ES256, Public: ek.Public}, token.TypeAccess, accessClaims(), token.ErrNoPrivateKey, ""},
		{"unsupported alg", &token.Key{ID: ek.ID, Algorithm: "HS256", Public: ek.Public, Private: ek.Private}, token.TypeAccess, accessClaims(), token.ErrUnsupportedAlg, ""},
		{"unknown type", ek, "JWT", accessClaims(), token.ErrWrongType, ""},
		{"empty type", ek, "", accessClaims(), token.ErrWrongType, ""},
		{"nil claims", ek, token.TypeAccess, nil, token.ErrInvalidToken, ""},
		{"no sub", ek, token.TypeAccess, edit(func(c *token.Payload) { c.Subject = "" }), token.ErrInvalidToken, `"sub"`},
		{"no jti", ek, token.TypeAccess, edit(func(c *token.Payload) { c.ID = "" }), token.ErrInvalidToken, `"jti"`},
		{"no iss", ek, token.TypeAccess, edit(func(c *token.Payload) { c.Issuer = "" }), token.ErrInvalidToken, `"iss"`},
		{"no aud", ek, token.TypeAccess, edit(func(c *token.Payload) { c.Audience = nil }), token.ErrInvalidToken, `"aud"`},
		{"empty aud", ek, token.TypeAccess, edit(func(c *token.Payload) { c.Audience = token.ClaimStrings{testAudience, ""} }), token.ErrInvalidToken, `"aud"`},
		{"no iat", ek, token.TypeAccess, edit(func(c *token.Payload) { c.IssuedAt = nil }), token.ErrInvalidToken, `"iat"`},
		{"no exp", ek, token.TypeAccess, edit(func(c *token.Payload) { c.ExpiresAt = nil }), token.ErrInvalidToken, `"exp"`},
		{"exp before iat", ek, token.TypeAccess, edit(func(c *token.Payload) { c.ExpiresAt = token.NewNumericDate(c.IssuedAt.Add(-time.Second)) }), token.ErrInvalidToken, "exp"},
		{"refresh without sid", ek, token.TypeRefresh, edit(func(c *token.Payload) { c.SessionID = "" }), token.ErrInvalidToken, `"sid"`},
		{"alg does not fit the private key", &token.Key{ID: ek.ID, Algorithm: token.RS256, Public: ek.Public, Private: ek.Private}, token.TypeAccess, accessClaims(), nil, "RS256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := token.Sign(tc.key, tc.typ, tc.claims)
			if err == nil || s != "" {
				t.Fatalf("Sign = %q, %v; want an error", s, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q does not match %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %s", err, tc.mention)
			}
		})
	}
}
