package token_test

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// negCase is a token the verifier must refuse with want.
type negCase struct {
	name  string
	token string
	want  error
	keys  token.KeySet          // default allKeys()
	opts  []token.CheckerOption // added to the defaults
}

// negativeCases builds every refused token; FuzzVerify seeds from it too.
func negativeCases(t testing.TB) []negCase {
	ek, dk, rk := testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)
	access := accessClaims()
	at := token.TypeAccess
	valid := mustSign(t, ek, at, access)
	h, p, s := segments(t, valid)
	attacker, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK, err := token.NewJWKS([]*token.Key{attacker})
	if err != nil {
		t.Fatal(err)
	}
	refreshOpts := []token.CheckerOption{token.WithType(token.TypeRefresh)}

	cases := []negCase{
		{name: "empty", token: "", want: token.ErrInvalidToken},
		{name: "garbage", token: "garbage", want: token.ErrInvalidToken},
		{name: "three empty segments", token: "..", want: token.ErrInvalidToken},
		{name: "four segments", token: valid + ".x", want: token.ErrInvalidToken},
		{name: "two segments", token: h + "." + p, want: token.ErrInvalidToken},
		{name: "non-JSON header", token: enc(t, "hello") + "." + p + "." + s, want: token.ErrInvalidToken},
		{name: "header is an array", token: enc(t, []int{1}) + "." + p + "." + s, want: token.ErrInvalidToken},
		{name: "utf-8 junk", token: "ünï.cødé.☃", want: token.ErrInvalidToken},
		{name: "too large garbage", token: strings.Repeat("a", token.MaxTokenSize+1), want: token.ErrInvalidToken},
		{
			name:  "too large valid token",
			token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "pad", strings.Repeat("x", token.MaxTokenSize))),
			want:  token.ErrInvalidToken,
		},

		// Algorithm confusion.
		{name: "alg none", token: enc(t, withHeader(hdr(ek, at), "alg", "none")) + "." + p + ".", want: token.ErrUnsupportedAlg},
		{name: "alg None", token: enc(t, withHeader(hdr(ek, at), "alg", "None")) + "." + p + ".", want: token.ErrUnsupportedAlg},
		{name: "alg missing", token: signInput(t, ek, enc(t, withHeader(hdr(ek, at), "alg", nil))+"."+p), want: token.ErrUnsupportedAlg},
		{name: "alg not a string", token: enc(t, withHeader(hdr(ek, at), "alg", 1)) + "." + p + "." + s, want: token.ErrUnsupportedAlg},
		{name: "HS256 with ES256 public key PEM", token: hmacWithPublicKey(t, ek, true), want: token.ErrUnsupportedAlg},
		{name: "HS256 with ES256 public key DER", token: hmacWithPublicKey(t, ek, false), want: token.ErrUnsupportedAlg},
		{name: "HS256 with RS256 public key PEM", token: hmacWithPublicKey(t, rk, true), want: token.ErrUnsupportedAlg},
		{name: "HS256 with RS256 public key DER", token: hmacWithPublicKey(t, rk, false), want: token.ErrUnsupportedAlg},
		{
			name:  "alg ES256 but key is EdDSA",
			token: signRaw(t, attacker, withHeader(hdr(dk, at), "alg", token.ES256), access),
			want:  token.ErrUnsupportedAlg,
		},
		{
			name:  "alg RS256 header but key is ES256",
			token: signRaw(t, rk, withHeader(hdr(ek, at), "alg", token.RS256), access),
			want:  token.ErrUnsupportedAlg,
		},
		{
			name:  "PS256 (golang-jwt knows it, we do not allow it)",
			token: signRaw(t, rk, withHeader(hdr(rk, at), "alg", "PS256"), access),
			want:  token.ErrUnsupportedAlg,
		},
		{
			name:  "algorithm not in WithAllowedAlgorithms",
			token: mustSign(t, dk, at, access),
			want:  token.ErrUnsupportedAlg,
			opts:  []token.CheckerOption{token.WithAllowedAlgorithms(token.ES256, token.RS256)},
		},

		// Keys.
		{name: "unknown kid", token: signRaw(t, ek, withHeader(hdr(ek, at), "kid", "nope"), access), want: token.ErrUnknownKey},
		{name: "kid not a string", token: signRaw(t, ek, withHeader(hdr(ek, at), "kid", 7), access), want: token.ErrUnknownKey},
		{
			name:  "empty kid with a two-key set",
			token: signRaw(t, ek, withHeader(hdr(ek, at), "kid", ""), access),
			want:  token.ErrUnknownKey,
			keys:  token.StaticKeySet{ek, dk},
		},
		{
			name:  "no kid with a two-key set",
			token: signRaw(t, ek, withHeader(hdr(ek, at), "kid", nil), access),
			want:  token.ErrUnknownKey,
			keys:  token.StaticKeySet{ek, dk},
		},
		{
			name: "embedded attacker key: jwk, jku, x5u with the attacker's kid",
			token: signRaw(t, attacker, withHeader(hdr(attacker, at),
				"jwk", attackerJWK.Keys[0], "jku", "https://evil.example/jwks.json", "x5u", "https://evil.example/cert.pem"), access),
			want: token.ErrUnknownKey,
		},
		{
			name: "embedded attacker key: no kid, one-key set",
			token: signRaw(t, attacker, withHeader(hdr(attacker, at), "kid", nil,
				"jwk", attackerJWK.Keys[0], "jku", "https://evil.example/jwks.json"), access),
			want: token.ErrInvalidToken,
			keys: token.StaticKeySet{ek},
		},
		{
			name: "embedded attacker key: our kid",
			token: signRaw(t, attacker, withHeader(hdr(ek, at),
				"jwk", attackerJWK.Keys[0], "x5c", []string{"MIIB"}), access),
			want: token.ErrInvalidToken,
		},

		// Signature.
		{name: "ECDSA r = s = 0", token: h + "." + p + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64)), want: token.ErrInvalidToken},
		{
			name:  "ECDSA r = s = n (the group order)",
			token: h + "." + p + "." + base64.RawURLEncoding.EncodeToString(append(elliptic.P256().Params().N.FillBytes(make([]byte, 32)), elliptic.P256().Params().N.FillBytes(make([]byte, 32))...)),
			want:  token.ErrInvalidToken,
		},

		// Claims and time.
		{name: "expired beyond leeway", token: signWith(t, ek, at, func(c *token.Payload) { c.ExpiresAt = token.NewNumericDate(testNow.Add(-6 * time.Second)) }), want: token.ErrExpired},
		{name: "expired long ago", token: signWith(t, ek, at, func(c *token.Payload) {
			c.IssuedAt = token.NewNumericDate(testNow.Add(-2 * time.Hour))
			c.ExpiresAt = token.NewNumericDate(testNow.Add(-time.Hour))
		}), want: token.ErrExpired},
		{name: "nbf in the future", token: signWith(t, ek, at, func(c *token.Payload) { c.NotBefore = token.NewNumericDate(testNow.Add(time.Minute)) }), want: token.ErrNotYetValid},
		{name: "iat in the future", token: signWith(t, ek, at, func(c *token.Payload) { c.IssuedAt = token.NewNumericDate(testNow.Add(time.Minute)) }), want: token.ErrNotYetValid},
		{name: "wrong issuer", token: signWith(t, ek, at, func(c *token.Payload) { c.Issuer = "https://evil.example" }), want: token.ErrInvalidToken},
		{name: "issuer differs in case", token: signWith(t, ek, at, func(c *token.Payload) { c.Issuer = strings.ToUpper(testIssuer) }), want: token.ErrInvalidToken},
		{name: "wrong audience", token: signWith(t, ek, at, func(c *token.Payload) { c.Audience = token.ClaimStrings{"https://evil.example"} }), want: token.ErrInvalidToken},
		{name: "missing aud", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "aud", nil)), want: token.ErrInvalidToken},
		{name: "empty aud array", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "aud", []string{})), want: token.ErrInvalidToken},
		{name: "missing iss", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "iss", nil)), want: token.ErrInvalidToken},
		{name: "missing sub", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "sub", nil)), want: token.ErrInvalidToken},
		{name: "empty sub", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "sub", "")), want: token.ErrInvalidToken},
		{name: "missing jti", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "jti", nil)), want: token.ErrInvalidToken},
		{name: "missing iat", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "iat", nil)), want: token.ErrInvalidToken},
		{name: "missing exp", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "exp", nil)), want: token.ErrInvalidToken},
		{name: "exp not a number", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "exp", "tomorrow")), want: token.ErrInvalidToken},
		{name: "sub not a string", token: signRaw(t, ek, hdr(ek, at), claimsMap(t, access, "sub", 42)), want: token.ErrInvalidToken},
		{
			name:  "refresh token without sid",
			token: signRaw(t, ek, hdr(ek, token.TypeRefresh), claimsMap(t, refreshClaims(), "sid", nil)),
			want:  token.ErrInvalidToken,
			opts:  refreshOpts,
		},

		// Type.
		{name: "refresh token to access verifier", token: mustSign(t, ek, token.TypeRefresh, refreshClaims()), want: token.ErrWrongType},
		{name: "access token to refresh verifier", token: mustSign(t, ek, at, access), want: token.ErrWrongType, opts: refreshOpts},
		{name: "typ JWT", token: signRaw(t, ek, hdr(ek, "JWT"), access), want: token.ErrWrongType},
		{name: "typ missing", token: signRaw(t, ek, withHeader(hdr(ek, at), "typ", nil), access), want: token.ErrWrongType},
		{name: "typ not a string", token: signRaw(t, ek, withHeader(hdr(ek, at), "typ", []string{at}), access), want: token.ErrWrongType},
		{name: "typ application/refresh+jwt", token: signRaw(t, ek, hdr(ek, "application/"+token.TypeRefresh), access), want: token.ErrWrongType},
		{name: "typ with media type twice", token: signRaw(t, ek, hdr(ek, "application/application/at+jwt"), access), want: token.ErrWrongType},
		{name: "typ with parameters", token: signRaw(t, ek, hdr(ek, "at+jwt; charset=utf-8"), access), want: token.ErrWrongType},
		{name: "crit header", token: signRaw(t, ek, withHeader(hdr(ek, at), "crit", []string{"exp"}, "exp", 1), access), want: token.ErrInvalidToken},
		{name: "empty crit header", token: signRaw(t, ek, withHeader(hdr(ek, at), "crit", []string{}), access), want: token.ErrInvalidToken},
		{name: "b64 false with crit", token: signRaw(t, ek, withHeader(hdr(ek, at), "crit", []string{"b64"}, "b64", false), access), want: token.ErrInvalidToken},
	}

	// Signature and encoding defects, for every algorithm.
	for _, k := range []*token.Key{ek, dk, rk} {
		valid := mustSign(t, k, at, access)
		h, p, s := segments(t, valid)
		sig, _ := base64.RawURLEncoding.DecodeString(s)
		payload, _ := base64.RawURLEncoding.DecodeString(p)
		tampered := strings.Replace(string(payload), `"sub":"user-42"`, `"sub":"admin"`, 1)
		if tampered == string(payload) {
			t.Fatal("tamper: sub not found in payload")
		}
		flipped := append([]byte(nil), sig...)
		flipped[len(flipped)/2] ^= 1
		a := k.Algorithm + ": "
		cases = append(cases,
			negCase{name: a + "tampered payload", token: h + "." + enc(t, tampered) + "." + s, want: token.ErrInvalidToken},
			negCase{name: a + "flipped signature bit", token: h + "." + p + "." + base64.RawURLEncoding.EncodeToString(flipped), want: token.ErrInvalidToken},
			negCase{name: a + "stripped signature", token: h + "." + p + ".", want: token.ErrInvalidToken},
			negCase{name: a + "truncated signature", token: h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-3]), want: token.ErrInvalidToken},
			negCase{name: a + "truncated signature text", token: valid[:len(valid)-1], want: token.ErrInvalidToken},
			negCase{name: a + "signature of another token", token: h + "." + p + "." + lastSegment(mustSign(t, k, at, refreshClaims())), want: token.ErrInvalidToken},
			negCase{name: a + "padded payload, validly signed", token: signInput(t, k, h+"."+padded(p)), want: token.ErrInvalidToken},
			negCase{name: a + "padded signature", token: h + "." + p + "." + padded(s+"AA"), want: token.ErrInvalidToken},
			negCase{name: a + "std alphabet payload, validly signed", token: stdAlphabet(t, k, access), want: token.ErrInvalidToken},
			negCase{name: a + "trailing bits set in payload, validly signed", token: trailingBits(t, k, access), want: token.ErrInvalidToken},
			negCase{name: a + "whitespace in payload, validly signed", token: signInput(t, k, h+"."+p[:4]+" "+p[4:]), want: token.ErrInvalidToken},
		)
	}
	return cases
}

// signWith signs accessClaims changed by edit, for claims Sign accepts.
func signWith(t testing.TB, k *token.Key, typ string, edit func(*token.Payload)) string {
	t.Helper()
	c := accessClaims()
	edit(c)
	return signRaw(t, k, hdr(k, typ), c)
}

// hmacWithPublicKey is the classic algorithm-confusion token: HS256 keyed
// with the victim's public key bytes, kid naming the victim's key.
func hmacWithPublicKey(t testing.TB, k *token.Key, asPEM bool) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		t.Fatal(err)
	}
	secret := der
	if asPEM {
		secret = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	tok := &jwt.Token{Method: jwt.SigningMethodHS256, Header: withHeader(hdr(k, token.TypeAccess), "alg", "HS256"), Claims: claimsMap(t, accessClaims())}
	out, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func lastSegment(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }

// padded adds base64 padding to a raw segment (one '=' if it needs none).
func padded(seg string) string {
	if n := len(seg) % 4; n != 0 {
		return seg + strings.Repeat("=", 4-n)
	}
	return seg + "===="
}

// stdAlphabet returns a validly signed token whose payload uses the standard
// base64 alphabet ('+' or '/'), varying a claim until one appears.
func stdAlphabet(t testing.TB, k *token.Key, c *token.Payload) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		m := claimsMap(t, c, "pad", strings.Repeat("?", i))
		b, _ := json.Marshal(m)
		p := base64.RawStdEncoding.EncodeToString(b)
		if strings.ContainsAny(p, "+/") {
			return signInput(t, k, enc(t, hdr(k, token.TypeAccess))+"."+p)
		}
	}
	t.Fatal("no '+' or '/' produced")
	return ""
}

// trailingBits returns a validly signed token whose payload segment has
// a non-zero unused low bit in its last character: it decodes to the same
// bytes under a lenient decoder only (RFC 4648 §3.5).
func trailingBits(t testing.TB, k *token.Key, c *token.Payload) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < 4; i++ {
		p := enc(t, claimsMap(t, c, "pad", strings.Repeat("?", i)))
		if len(p)%4 == 0 {
			continue // every bit is used
		}
		last := strings.IndexByte(alphabet, p[len(p)-1])
		p = p[:len(p)-1] + string(alphabet[last|1])
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err == nil {
			t.Fatal("trailingBits: strict decoding still succeeds")
		}
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			t.Fatal("trailingBits: lenient decoding fails")
		}
		return signInput(t, k, enc(t, hdr(k, token.TypeAccess))+"."+p)
	}
	t.Fatal("trailingBits: no length with spare bits")
	return ""
}

func TestVerifyRefuses(t *testing.T) {
	for _, tc := range negativeCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = allKeys()
			}
			v := newVerifier(t, keys, tc.opts...)
			c, err := v.Verify(context.Background(), tc.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			if c != nil {
				t.Errorf("claims returned with an error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not match %v", err, tc.want)
			}
			if !errors.Is(err, token.ErrInvalidToken) {
				t.Errorf("error %q does not match ErrInvalidToken", err)
			}
			if errors.Is(err, token.ErrKeySetUnavailable) {
				t.Errorf("error %q matches ErrKeySetUnavailable", err)
			}
			assertNoTokenInError(t, err, tc.token)
		})
	}
}

// assertNoTokenInError fails if err's text contains raw or any of its
// segments: errors are logged, tokens are credentials.
func assertNoTokenInError(t testing.TB, err error, raw string) {
	t.Helper()
	msg := err.Error()
	for _, seg := range append(strings.Split(raw, "."), raw) {
		if len(seg) >= 8 && strings.Contains(msg, seg) {
			t.Errorf("error text contains token material: %q", msg)
		}
	}
}
