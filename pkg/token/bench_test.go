package token_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// The Raw benchmarks do the same work with plain golang-jwt (same parser
// options, a keyfunc that returns the key) so the cost of our checks
// shows: BenchmarkVerify/X against BenchmarkRawGolangJWTParse/X.

func BenchmarkSign(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			k, c := testKey(alg), accessClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := token.Sign(k, token.TypeAccess, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rawClaims is token.Payload as bare golang-jwt decodes it: the outer
// jwt.RegisteredClaims, shallower, takes iss/sub/aud/exp/nbf/iat/jti, the
// embedded Payload the rest, so a baseline decodes the same fields.
type rawClaims struct {
	jwt.RegisteredClaims
	token.Payload
}

// toRaw copies c into a rawClaims for the golang-jwt signing baseline.
func toRaw(c *token.Payload) *rawClaims {
	date := func(d *token.NumericDate) *jwt.NumericDate {
		if d == nil {
			return nil
		}
		return jwt.NewNumericDate(d.Time)
	}
	return &rawClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: c.Issuer, Subject: c.Subject, Audience: jwt.ClaimStrings(c.Audience), ID: c.ID,
		ExpiresAt: date(c.ExpiresAt), NotBefore: date(c.NotBefore), IssuedAt: date(c.IssuedAt),
	}, Payload: *c}
}

func BenchmarkRawGolangJWTSign(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			k, c := testKey(alg), toRaw(accessClaims())
			m := jwt.GetSigningMethod(alg)
			b.ReportAllocs()
			for b.Loop() {
				t := jwt.NewWithClaims(m, c)
				t.Header["typ"] = token.TypeAccess
				t.Header["kid"] = k.ID
				if _, err := t.SignedString(k.Private); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			v := newVerifier(b, allKeys())
			raw := mustSign(b, testKey(alg), token.TypeAccess, accessClaims())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawGolangJWTParse(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			k := testKey(alg)
			raw := mustSign(b, k, token.TypeAccess, accessClaims())
			p := jwt.NewParser(
				jwt.WithStrictDecoding(),
				jwt.WithValidMethods(algs),
				jwt.WithIssuer(testIssuer),
				jwt.WithAudience(testAudience),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
				jwt.WithLeeway(token.DefaultLeeway),
				jwt.WithTimeFunc(clock(testNow)),
			)
			pub := k.Public
			keyfunc := func(*jwt.Token) (any, error) { return pub, nil }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ParseWithClaims(raw, &rawClaims{}, keyfunc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRefuse measures refusals that must stay cheap under a
// flood: garbage, an unknown kid, a wrong type (no signature check).
func BenchmarkVerifyRefuse(b *testing.B) {
	ek := testKey(token.ES256)
	cases := []struct{ name, raw string }{
		{"garbage", "not-a-token"},
		{"unknown-kid", signRaw(b, ek, withHeader(hdr(ek, token.TypeAccess), "kid", "nope"), accessClaims())},
		{"wrong-type", mustSign(b, ek, token.TypeRefresh, refreshClaims())},
	}
	v := newVerifier(b, allKeys())
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, c.raw); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// BenchmarkStaticKeySet compares StaticKeySet's scan with a map, for the
// last key of sets of rotation-sized and larger sizes.
func BenchmarkStaticKeySet(b *testing.B) {
	for _, n := range []int{1, 3, 8, 32} {
		set := make(token.StaticKeySet, n)
		byID := make(map[string]*token.Key, n)
		for i := range set {
			k, err := token.GenerateKey(token.EdDSA)
			if err != nil {
				b.Fatal(err)
			}
			set[i], byID[k.ID] = k, k
		}
		kid := set[n-1].ID
		ctx := context.Background()
		b.Run(fmt.Sprintf("scan/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := set.VerificationKey(ctx, kid); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("map/%d", n), func(b *testing.B) {
			for b.Loop() {
				if byID[kid] == nil {
					b.Fatal("missing")
				}
			}
		})
	}
}

// BenchmarkRefreshToken compares a refresh token MACed with HS256 (what
// authd mints) with one signed with ES256 (what it minted before): each
// refresh verifies one and mints one.
func BenchmarkRefreshToken(b *testing.B) {
	mk, err := token.DeriveMACKey(make([]byte, 32), "bench", "r.bench")
	if err != nil {
		b.Fatal(err)
	}
	set := macSet{keys: []*token.MACKey{mk}}
	ctx := context.Background()
	b.Run("SignMAC/HS256", func(b *testing.B) {
		c := refreshClaims()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := token.SignMAC(mk, token.TypeRefresh, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Sign/ES256", func(b *testing.B) {
		k, c := testKey(token.ES256), refreshClaims()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := token.Sign(k, token.TypeRefresh, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		raw  func() (string, error)
	}{
		{"Verify/HS256", func() (string, error) { return token.SignMAC(mk, token.TypeRefresh, refreshClaims()) }},
		{"Verify/ES256", func() (string, error) { return token.Sign(testKey(token.ES256), token.TypeRefresh, refreshClaims()) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			raw, err := tc.raw()
			if err != nil {
				b.Fatal(err)
			}
			v := refreshVerifier(b, set)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
