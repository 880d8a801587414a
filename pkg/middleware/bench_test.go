package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

var benchAlgs = []string{token.ES256, token.EdDSA, token.RS256}

func benchVerifier(b *testing.B, ks token.KeySet, opts ...middleware.Option) *middleware.Verifier {
	b.Helper()
	v, err := middleware.NewVerifier(append([]middleware.Option{
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(ks),
	}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkVerifier is Verify with a static key set and no revocation
// check: compare with BenchmarkRawGolangJWT.
func BenchmarkVerifier(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			k := testKey(b, alg, 0)
			v := benchVerifier(b, token.StaticKeySet{k})
			raw := mint(b, k, time.Now(), nil)
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

// BenchmarkVerifierRemoteKeySet is BenchmarkVerifier/ES256 with the keys
// of a (warm) RemoteKeySet: the lookup is a map read under an atomic
// pointer.
func BenchmarkVerifierRemoteKeySet(b *testing.B) {
	k := testKey(b, token.ES256, 0)
	srv := newJWKSServer(b, k)
	ks, err := middleware.NewRemoteKeySet(b.Context(), srv.JWKSURL())
	if err != nil {
		b.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	v := benchVerifier(b, ks)
	raw := mint(b, k, time.Now(), nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawGolangJWT is golang-jwt's ParseWithClaims of the same token
// with the options pkg/token uses and a keyfunc checking typ and kid: the
// floor the Verifier is measured against.
func BenchmarkRawGolangJWT(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			k := testKey(b, alg, 0)
			raw := mint(b, k, time.Now(), nil)
			p := jwt.NewParser(
				jwt.WithStrictDecoding(),
				jwt.WithValidMethods(benchAlgs),
				jwt.WithIssuer(testIssuer),
				jwt.WithAudience(testAudience),
				jwt.WithExpirationRequired(),
				jwt.WithIssuedAt(),
				jwt.WithLeeway(token.DefaultLeeway),
				jwt.WithTimeFunc(time.Now),
			)
			keyfunc := func(t *jwt.Token) (any, error) {
				if typ, _ := t.Header["typ"].(string); typ != token.TypeAccess {
					return nil, jwt.ErrTokenUnverifiable
				}
				if kid, _ := t.Header["kid"].(string); kid != k.ID || t.Method.Alg() != k.Algorithm {
					return nil, jwt.ErrTokenUnverifiable
				}
				return k.Public, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				var c token.Claims
				if _, err := p.ParseWithClaims(raw, &c, keyfunc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifierWithRedisRevocation is Verify plus the denylist check
// against the real Redis, from about 32 goroutines.
func BenchmarkVerifierWithRedisRevocation(b *testing.B) {
	client, prefix := testenv.Redis(b)
	k := testKey(b, token.ES256, 0)
	v := benchVerifier(b, token.StaticKeySet{k},
		middleware.WithRevocation(denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), middleware.FailClosed))
	raw := mint(b, k, time.Now(), nil)
	ctx := context.Background()
	b.SetParallelism(max(1, (32+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHandler is the net/http path: header parsing, Verify, context.
func BenchmarkHandler(b *testing.B) {
	k := testKey(b, token.ES256, 0)
	v := benchVerifier(b, token.StaticKeySet{k})
	h := v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+mint(b, k, time.Now(), nil))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
