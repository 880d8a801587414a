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

// benchCached measures Verify of raw after a first call, so that every
// call in the loop is answered from the verified-token cache; cpu-ns/op is
// the process's CPU time per call.
func benchCached(b *testing.B, v *middleware.Verifier, raw string) {
	b.Helper()
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkVerifier is Verify with a static key set, no revocation check
// and the verified-token cache off, so every call checks the signature:
// compare with BenchmarkRawGolangJWT.
func BenchmarkVerifier(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			k := testKey(b, alg, 0)
			v := testVerifier(b, token.StaticKeySet{k}, middleware.WithVerifiedCache(0))
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

// BenchmarkVerifierCached is Verify of one token repeated, answered from
// the verified-token cache after the first call: lifetime and key checks
// and a copy of the claims, no signature. The target is under 2µs (docs/benchmarks.md)
// (cpu-ns/op is the process's CPU time per call).
func BenchmarkVerifierCached(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			k := testKey(b, alg, 0)
			v := testVerifier(b, token.StaticKeySet{k})
			benchCached(b, v, mint(b, k, time.Now(), nil))
		})
	}
}

// BenchmarkVerifierCachedWithRedis is BenchmarkVerifierCached/ES256 plus
// the revocation check against the real Redis, one call at a time: the
// time is mostly the round trip; cpu-ns/op is what the call costs this
// process, go-redis included.
func BenchmarkVerifierCachedWithRedis(b *testing.B) {
	client, prefix := testenv.Redis(b)
	k := testKey(b, token.ES256, 0)
	v := testVerifier(b, token.StaticKeySet{k},
		middleware.WithRevocation(denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), middleware.FailClosed))
	benchCached(b, v, mint(b, k, time.Now(), nil))
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
	v := testVerifier(b, ks, middleware.WithVerifiedCache(0))
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
				var c struct {
					jwt.RegisteredClaims // shallower: takes the registered claims
					token.Payload
				}
				if _, err := p.ParseWithClaims(raw, &c, keyfunc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifierWithRedisRevocation is Verify (ES256) plus the
// denylist check against the real Redis, one round trip per call, from
// about 32 goroutines; uncached checks the signature every time, cached
// repeats one token. Compare with BenchmarkVerifierWithMirror.
func BenchmarkVerifierWithRedisRevocation(b *testing.B) {
	client, prefix := testenv.Redis(b)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	benchRevocationModes(b, dl)
}

// BenchmarkVerifierWithMirror is BenchmarkVerifierWithRedisRevocation
// with a denylist.Mirror of the same Redis as the checker: the check is a
// lookup in memory, with no round trip.
func BenchmarkVerifierWithMirror(b *testing.B) {
	client, prefix := testenv.Redis(b)
	m := denylist.NewMirror(b.Context(), client, denylist.WithKeyPrefix(prefix))
	defer m.Close()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	if err := m.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	benchRevocationModes(b, m)
}

// benchRevocationModes runs the parallel revocation benchmarks against
// checker, with and without the verified-token cache.
func benchRevocationModes(b *testing.B, checker denylist.Checker) {
	for _, mode := range []struct {
		name  string
		cache int
	}{{"uncached", 0}, {"cached", middleware.DefaultVerifiedCacheSize}} {
		b.Run(mode.name, func(b *testing.B) {
			k := testKey(b, token.ES256, 0)
			v := testVerifier(b, token.StaticKeySet{k},
				middleware.WithRevocation(checker, middleware.FailClosed), middleware.WithVerifiedCache(mode.cache))
			raw := mint(b, k, time.Now(), nil)
			ctx := context.Background()
			if _, err := v.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(max(1, (32+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			cpu := startCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Verify(ctx, raw); err != nil {
						b.Error(err)
						return
					}
				}
			})
			cpu.report(b)
		})
	}
}

// BenchmarkHandler is the net/http path: header parsing, Verify (cache
// off), context.
func BenchmarkHandler(b *testing.B) {
	k := testKey(b, token.ES256, 0)
	v := testVerifier(b, token.StaticKeySet{k}, middleware.WithVerifiedCache(0))
	h := v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+mint(b, k, time.Now(), nil))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// cpuMeter measures the process's CPU time over a benchmark's loop.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) cpuMeter {
	b.Helper()
	start, _ := processCPU()
	return cpuMeter{start}
}

// report adds cpu-ns/op: CPU time (all threads, user and system) per
// iteration. Unlike ns/op it counts every core a parallel benchmark uses
// and none of the time spent waiting on Redis.
func (m cpuMeter) report(b *testing.B) {
	b.Helper()
	end, ok := processCPU()
	if !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
}
