package token_test

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range algs {
		for _, tc := range []struct {
			typ    string
			claims *token.Payload
		}{
			{token.TypeAccess, accessClaims()},
			{token.TypeRefresh, refreshClaims()},
		} {
			t.Run(alg+"/"+tc.typ, func(t *testing.T) {
				k := testKey(alg)
				raw := mustSign(t, k, tc.typ, tc.claims)
				v := newVerifier(t, allKeys(), token.WithType(tc.typ))
				got, err := v.Verify(context.Background(), raw)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				sameClaims(t, got, tc.claims)
			})
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	ek := testKey(token.ES256)
	base := accessClaims()
	tests := []struct {
		name  string
		token func(t *testing.T) string
		keys  token.KeySet
		opts  []token.CheckerOption
	}{
		{
			name: "expired within leeway",
			token: func(t *testing.T) string {
				c := accessClaims()
				c.ExpiresAt = token.NewNumericDate(testNow.Add(-3 * time.Second))
				return mustSign(t, ek, token.TypeAccess, c)
			},
		},
		{
			name: "iat in the future within leeway",
			token: func(t *testing.T) string {
				c := accessClaims()
				c.IssuedAt = token.NewNumericDate(testNow.Add(4 * time.Second))
				return mustSign(t, ek, token.TypeAccess, c)
			},
		},
		{
			name: "nbf in the past",
			token: func(t *testing.T) string {
				c := accessClaims()
				c.NotBefore = token.NewNumericDate(testNow.Add(-time.Second))
				return mustSign(t, ek, token.TypeAccess, c)
			},
		},
		{
			name: "zero leeway, exp one second ahead",
			token: func(t *testing.T) string {
				c := accessClaims()
				c.ExpiresAt = token.NewNumericDate(testNow.Add(time.Second))
				return mustSign(t, ek, token.TypeAccess, c)
			},
			opts: []token.CheckerOption{token.WithLeeway(0)},
		},
		{
			name:  "typ with application/ prefix",
			token: func(t *testing.T) string { return signRaw(t, ek, hdr(ek, "application/at+jwt"), base) },
		},
		{
			name:  "typ in upper case",
			token: func(t *testing.T) string { return signRaw(t, ek, hdr(ek, "Application/AT+JWT"), base) },
		},
		{
			name: "no kid, single-key set",
			token: func(t *testing.T) string {
				return signRaw(t, ek, withHeader(hdr(ek, token.TypeAccess), "kid", nil), base)
			},
			keys: token.StaticKeySet{ek},
		},
		{
			name: "aud as a single string",
			token: func(t *testing.T) string {
				return signRaw(t, ek, hdr(ek, token.TypeAccess), claimsMap(t, base, "aud", testAudience))
			},
		},
		{
			name:  "second accepted audience",
			token: func(t *testing.T) string { return mustSign(t, ek, token.TypeAccess, base) },
			opts:  []token.CheckerOption{token.WithAudience("https://nope.example.com", "https://other.example.com")},
		},
		{
			name: "unknown header and claims are ignored",
			token: func(t *testing.T) string {
				return signRaw(t, ek, withHeader(hdr(ek, token.TypeAccess), "x-extra", 1), claimsMap(t, base, "foo", "bar"))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = allKeys()
			}
			v := newVerifier(t, keys, tc.opts...)
			if _, err := v.Verify(context.Background(), tc.token(t)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyErrorKinds(t *testing.T) {
	// Each refusal matches only the sentinels it should.
	ek := testKey(token.ES256)
	expired := signWith(t, ek, token.TypeAccess, func(c *token.Payload) { c.ExpiresAt = token.NewNumericDate(testNow.Add(-time.Hour)) })
	_, err := newVerifier(t, allKeys()).Verify(context.Background(), expired)
	for _, s := range []error{token.ErrNotYetValid, token.ErrWrongType, token.ErrUnknownKey, token.ErrUnsupportedAlg} {
		if errors.Is(err, s) {
			t.Errorf("expired token error matches %v", s)
		}
	}
	// golang-jwt's cause stays reachable for debugging.
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("cause jwt.ErrTokenExpired not reachable from %q", err)
	}
	// Expired and wrong audience: expiry is the kind, both are listed.
	both := signWith(t, ek, token.TypeAccess, func(c *token.Payload) {
		c.ExpiresAt = token.NewNumericDate(testNow.Add(-time.Hour))
		c.Audience = token.ClaimStrings{"nope"}
	})
	_, err = newVerifier(t, allKeys()).Verify(context.Background(), both)
	if !errors.Is(err, token.ErrExpired) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("error = %q, want ErrExpired mentioning the audience", err)
	}
}

// keySetFunc adapts a function to KeySet.
type keySetFunc func(ctx context.Context, kid string) (*token.Key, error)

func (f keySetFunc) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	return f(ctx, kid)
}

func TestVerifyKeySetErrors(t *testing.T) {
	ek := testKey(token.ES256)
	raw := mustSign(t, ek, token.TypeAccess, accessClaims())
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name            string
		ctx             context.Context
		keys            keySetFunc
		wantUnavailable bool
		wantKind        error
	}{
		{
			name: "unavailable",
			ctx:  context.Background(),
			keys: func(context.Context, string) (*token.Key, error) {
				return nil, fmt.Errorf("keys: load: connection refused: %w", token.ErrKeySetUnavailable)
			},
			wantUnavailable: true,
		},
		{
			name:            "bare sentinel",
			ctx:             context.Background(),
			keys:            func(context.Context, string) (*token.Key, error) { return nil, token.ErrKeySetUnavailable },
			wantUnavailable: true,
		},
		{
			name:            "context canceled",
			ctx:             canceled,
			keys:            func(ctx context.Context, _ string) (*token.Key, error) { return nil, ctx.Err() },
			wantUnavailable: true,
		},
		{
			name:     "unknown key",
			ctx:      context.Background(),
			keys:     func(context.Context, string) (*token.Key, error) { return nil, token.ErrUnknownKey },
			wantKind: token.ErrUnknownKey,
		},
		{
			name:     "other error means unknown key",
			ctx:      context.Background(),
			keys:     func(context.Context, string) (*token.Key, error) { return nil, errors.New("no such row") },
			wantKind: token.ErrUnknownKey,
		},
		{
			name:     "nil key without error",
			ctx:      context.Background(),
			keys:     func(context.Context, string) (*token.Key, error) { return nil, nil },
			wantKind: token.ErrUnknownKey,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newVerifier(t, tc.keys).Verify(tc.ctx, raw)
			if err == nil {
				t.Fatal("Verify succeeded")
			}
			if got := errors.Is(err, token.ErrKeySetUnavailable); got != tc.wantUnavailable {
				t.Errorf("errors.Is(%q, ErrKeySetUnavailable) = %v", err, got)
			}
			if got := errors.Is(err, token.ErrInvalidToken); got == tc.wantUnavailable {
				t.Errorf("errors.Is(%q, ErrInvalidToken) = %v", err, got)
			}
			if tc.wantKind != nil && !errors.Is(err, tc.wantKind) {
				t.Errorf("error %q does not match %v", err, tc.wantKind)
			}
		})
	}
}

func TestVerifyPassesContextAndKid(t *testing.T) {
	ek := testKey(token.ES256)
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-1")
	var gotKid string
	var gotVal any
	keys := keySetFunc(func(ctx context.Context, kid string) (*token.Key, error) {
		gotKid, gotVal = kid, ctx.Value(ctxKey{})
		return ek, nil
	})
	if _, err := newVerifier(t, keys).Verify(ctx, mustSign(t, ek, token.TypeAccess, accessClaims())); err != nil {
		t.Fatal(err)
	}
	if gotKid != ek.ID || gotVal != "req-1" {
		t.Errorf("KeySet got kid %q, ctx value %v", gotKid, gotVal)
	}
}

func TestVerifyZeroVerifier(t *testing.T) {
	var v token.Checker
	_, err := v.Verify(context.Background(), "x.y.z")
	if err == nil || errors.Is(err, token.ErrInvalidToken) {
		t.Fatalf("zero Checker: err = %v, want a programming error", err)
	}
}

// TestMalleatedECDSAIsAccepted documents a known property: (r, n-s) is a
// second valid encoding of an ECDSA signature. Revocation is keyed on
// jti/sid, so accepting it is harmless; this test records the decision.
func TestMalleatedECDSAIsAccepted(t *testing.T) {
	ek := testKey(token.ES256)
	raw := mustSign(t, ek, token.TypeAccess, accessClaims())
	h, p, s := segments(t, raw)
	sig, _ := base64.RawURLEncoding.DecodeString(s)
	n := elliptic.P256().Params().N
	sv := new(big.Int).SetBytes(sig[32:])
	sv.Sub(n, sv)
	mal := append(append([]byte(nil), sig[:32]...), sv.FillBytes(make([]byte, 32))...)
	c, err := newVerifier(t, allKeys()).Verify(context.Background(), h+"."+p+"."+base64.RawURLEncoding.EncodeToString(mal))
	if err != nil {
		t.Fatalf("malleated signature refused: %v (update the Verify doc if this is now intended)", err)
	}
	if c.ID != "jti-access-1" {
		t.Errorf("jti = %q", c.ID)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier(t, allKeys())
	var toks []string
	for _, alg := range algs {
		toks = append(toks, mustSign(t, testKey(alg), token.TypeAccess, accessClaims()))
	}
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 20 {
				if _, e := v.Verify(context.Background(), toks[(g+i)%len(toks)]); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
