package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

// remoteSetup is a verifier on a RemoteKeySet of srv with an injected
// clock; both are closed when the test ends.
type remoteSetup struct {
	clk *clock
	srv *jwksServer
	ks  *middleware.RemoteKeySet
	v   *middleware.Verifier
}

func newRemote(t *testing.T, srv *jwksServer, opts ...middleware.KeySetOption) *remoteSetup {
	t.Helper()
	clk := newClock()
	ks, err := middleware.NewRemoteKeySet(t.Context(), srv.JWKSURL(), append([]middleware.KeySetOption{middleware.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(ks),
		middleware.WithClock(clk.Now),
	)
	if err != nil {
		t.Fatal(err)
	}
	return &remoteSetup{clk: clk, srv: srv, ks: ks, v: v}
}

// verify verifies a token of k minted now.
func (r *remoteSetup) verify(t *testing.T, k *token.Key) error {
	t.Helper()
	_, err := r.v.Verify(t.Context(), mint(t, k, r.clk.Now(), nil))
	return err
}

func mustVerify(t *testing.T, r *remoteSetup, k *token.Key) {
	t.Helper()
	if err := r.verify(t, k); err != nil {
		t.Fatalf("token of key %.8s: %v", k.ID, err)
	}
}

func wantHits(t *testing.T, srv *jwksServer, want int64) {
	t.Helper()
	if got := srv.jwksHits.Load(); got != want {
		t.Fatalf("JWKS fetched %d times, want %d", got, want)
	}
}

// remoteGoroutines counts goroutines running RemoteKeySet code.
func remoteGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "middleware.(*RemoteKeySet)") {
			n++
		}
	}
	return n
}

func TestRemoteKeySetLazyFetch(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	r := newRemote(t, newJWKSServer(t, k))
	wantHits(t, r.srv, 0)
	mustVerify(t, r, k)
	mustVerify(t, r, k)
	wantHits(t, r.srv, 1)
}

func TestRemoteKeySetRotation(t *testing.T) {
	k1, k2 := testKey(t, token.ES256, 0), testKey(t, token.EdDSA, 0)
	r := newRemote(t, newJWKSServer(t, k1))
	mustVerify(t, r, k1)

	// authd publishes a second key. Within the refetch interval of the
	// last fetch an unknown kid is refused without a fetch.
	r.srv.setKeys(t, k1, k2)
	if err := r.verify(t, k2); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("new kid within the refetch interval: err = %v, want ErrInvalidToken", err)
	}
	wantHits(t, r.srv, 1)

	// After it, one refetch finds the new key; the old one still works.
	r.clk.Advance(middleware.DefaultRefetchInterval)
	mustVerify(t, r, k2)
	wantHits(t, r.srv, 2)
	mustVerify(t, r, k1)
	mustVerify(t, r, k2)
	wantHits(t, r.srv, 2)

	// The old key is retired; once the cache expires the refetch drops it.
	r.srv.setKeys(t, k2)
	r.clk.Advance(301 * time.Second)
	mustVerify(t, r, k2) // served from the stale set while it refetches
	waitFor(t, "the stale set to be refetched", func() bool { return r.srv.jwksHits.Load() == 3 })
	waitFor(t, "the old key to be dropped", func() bool { return r.verify(t, k1) != nil })
	if err := r.verify(t, k1); !errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("retired key: err = %v, want ErrInvalidToken and ErrUnknownKey", err)
	}
	mustVerify(t, r, k2)
}

// TestRemoteKeySetFlood checks that a flood of tokens with unknown kids
// costs at most one fetch per refetch interval, concurrent misses sharing
// one fetch.
func TestRemoteKeySetFlood(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	foreign := testKey(t, token.ES256, 3)
	now := time.Now()
	bogus := make([]string, 1000)
	for i := range bogus {
		bogus[i] = forge(t, jwt.SigningMethodES256, map[string]any{"typ": token.TypeAccess, "kid": fmt.Sprintf("bogus-%d", i)}, accessClaims(now), foreign.Private)
	}
	flood := func(t *testing.T, r *remoteSetup) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(bogus))
		for _, raw := range bogus {
			wg.Go(func() {
				if _, err := r.v.Verify(t.Context(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
					errs <- fmt.Errorf("err = %v, want ErrInvalidToken", err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}

	t.Run("cold", func(t *testing.T) {
		r := newRemote(t, newJWKSServer(t, k))
		r.clk.Set(now)
		flood(t, r)
		wantHits(t, r.srv, 1) // the first fetch, shared by all
	})
	t.Run("warm", func(t *testing.T) {
		r := newRemote(t, newJWKSServer(t, k))
		r.clk.Set(now)
		mustVerify(t, r, k)
		r.clk.Advance(time.Minute)
		flood(t, r)
		wantHits(t, r.srv, 2) // one refetch for 1000 unknown kids
		flood(t, r)
		wantHits(t, r.srv, 2) // rate-limited
		r.clk.Advance(middleware.DefaultRefetchInterval)
		flood(t, r)
		wantHits(t, r.srv, 3)
		mustVerify(t, r, k)
	})
}

func TestRemoteKeySetAuthdDown(t *testing.T) {
	k1, k2 := testKey(t, token.ES256, 0), testKey(t, token.ES256, 1)

	t.Run("last good set kept", func(t *testing.T) {
		r := newRemote(t, newJWKSServer(t, k1))
		mustVerify(t, r, k1)
		r.srv.Close()
		r.clk.Advance(24 * time.Hour) // far past max-age
		mustVerify(t, r, k1)
		r.clk.Advance(time.Minute)
		// An unknown kid tries a fetch, which fails: still a bad token
		// (401), not an outage, since a set is known.
		if err := r.verify(t, k2); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Fatalf("unknown kid with authd down: err = %v, want ErrInvalidToken", err)
		}
		mustVerify(t, r, k1)
	})
	t.Run("server error keeps the set", func(t *testing.T) {
		r := newRemote(t, newJWKSServer(t, k1))
		mustVerify(t, r, k1)
		r.srv.status.Store(http.StatusInternalServerError)
		r.clk.Advance(time.Minute)
		if err := r.ks.Refresh(t.Context()); !errors.Is(err, middleware.ErrFetch) {
			t.Fatalf("Refresh: err = %v, want ErrFetch", err)
		}
		mustVerify(t, r, k1)
		r.srv.setBody([]byte(`{"keys":[]}`)) // an empty set never replaces a good one
		r.srv.status.Store(http.StatusOK)
		if err := r.ks.Refresh(t.Context()); !errors.Is(err, middleware.ErrFetch) || !errors.Is(err, token.ErrInvalidJWKS) {
			t.Fatalf("Refresh of an empty set: err = %v, want ErrFetch and token.ErrInvalidJWKS", err)
		}
		mustVerify(t, r, k1)
	})
	t.Run("no set is unavailable", func(t *testing.T) {
		srv := newJWKSServer(t, k1)
		srv.Close()
		r := newRemote(t, srv)
		err := r.verify(t, k1)
		if !errors.Is(err, middleware.ErrUnavailable) || errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, token.ErrKeySetUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable and token.ErrKeySetUnavailable, not ErrInvalidToken", err)
		}
		resp := middleware.ResponseFor(err)
		if resp.Status != http.StatusServiceUnavailable || resp.RetryAfter == "" {
			t.Fatalf("response = %+v, want 503 with Retry-After", resp)
		}
	})
}

func TestRemoteKeySetCacheControl(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	tests := []struct {
		name         string
		cacheControl string
		ttl          time.Duration
	}{
		{"max-age", "public, max-age=120", 120 * time.Second},
		{"below the minimum", "max-age=5", middleware.DefaultMinCacheTTL},
		{"above the maximum", "max-age=31536000", middleware.DefaultMaxCacheTTL},
		{"absent", "", middleware.DefaultCacheTTL},
		{"no-store", "no-store", middleware.DefaultMinCacheTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, k)
			srv.setCacheControl(tt.cacheControl)
			r := newRemote(t, srv)
			mustVerify(t, r, k)
			// The background refresh is due at 3/4 of the TTL: nothing
			// before that.
			r.clk.Advance(tt.ttl*3/4 - 2*time.Second)
			attempt := middleware.LastFetchAttempt(r.ks)
			mustVerify(t, r, k)
			// A lookup starts a fetch synchronously, and the background
			// timer is armed hours of real time ahead: an unchanged
			// attempt proves no refetch began.
			if middleware.LastFetchAttempt(r.ks) != attempt {
				t.Fatal("a lookup before 3/4 of the TTL started a refetch")
			}
			wantHits(t, srv, 1)
			// At the TTL the set is stale: a lookup serves it and has it
			// refetched behind (if the background refresh has not yet).
			r.clk.Advance(tt.ttl - tt.ttl*3/4 + 2*time.Second)
			mustVerify(t, r, k)
			waitFor(t, "the refetch", func() bool { return srv.jwksHits.Load() == 2 })
		})
	}
}

func TestCacheTTL(t *testing.T) {
	const def, lo, hi = 5 * time.Minute, time.Minute, 24 * time.Hour
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, def},
		{"max-age", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"quoted", http.Header{"Cache-Control": {`max-age="600"`}}, 10 * time.Minute},
		{"case and spaces tolerated", http.Header{"Cache-Control": {" Max-Age = 600 "}}, 10 * time.Minute},
		{"upper case name", http.Header{"Cache-Control": {"MAX-AGE=600"}}, 10 * time.Minute},
		{"second header line", http.Header{"Cache-Control": {"public", "max-age=600"}}, 10 * time.Minute},
		{"age subtracted", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"120"}}, 8 * time.Minute},
		{"clamped low", http.Header{"Cache-Control": {"max-age=0"}}, lo},
		{"clamped high", http.Header{"Cache-Control": {"max-age=99999999999999999"}}, hi},
		{"negative ignored", http.Header{"Cache-Control": {"max-age=-5"}}, def},
		{"garbage ignored", http.Header{"Cache-Control": {"max-age=soon"}}, def},
		{"no-cache", http.Header{"Cache-Control": {"max-age=600, no-cache"}}, lo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := middleware.CacheTTL(tt.header, def, lo, hi); got != tt.want {
				t.Fatalf("CacheTTL = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRemoteKeySetBackgroundRefresh runs on the real clock with tiny
// bounds: the set is refetched before it expires with no lookup at all,
// and Close stops it and leaves no goroutine behind.
func TestRemoteKeySetBackgroundRefresh(t *testing.T) {
	k1, k2 := testKey(t, token.ES256, 0), testKey(t, token.ES256, 1)
	srv := newJWKSServer(t, k1)
	srv.setCacheControl("max-age=0")
	ks, err := middleware.NewRemoteKeySet(t.Context(), srv.JWKSURL(),
		middleware.WithCacheTTL(40*time.Millisecond, 40*time.Millisecond, time.Hour),
		middleware.WithRefetchInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.setKeys(t, k2)
	waitFor(t, "background refreshes", func() bool { return srv.jwksHits.Load() >= 4 })
	// The rotated key arrived without any lookup asking for it.
	if k, err := ks.VerificationKey(t.Context(), k2.ID); err != nil || k.ID != k2.ID {
		t.Fatalf("VerificationKey(new kid) = %v, %v", k, err)
	}
	if remoteGoroutines() == 0 {
		t.Fatal("no refresh goroutine while running")
	}
	ks.Close()
	waitFor(t, "no RemoteKeySet goroutine", func() bool { return remoteGoroutines() == 0 })
	// With no goroutine of the set left, nothing can fetch any more: a
	// lookup serves what it has and starts no fetch.
	hits, attempt := srv.jwksHits.Load(), middleware.LastFetchAttempt(ks)
	// Still serving what it has, but never fetching again.
	if _, err := ks.VerificationKey(t.Context(), k2.ID); err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := ks.VerificationKey(t.Context(), "unknown-kid"); err == nil {
		t.Fatal("after Close: an unknown kid was found")
	}
	if got := srv.jwksHits.Load(); got != hits || middleware.LastFetchAttempt(ks) != attempt {
		t.Fatalf("fetched %d times after Close", got-hits)
	}
	if err := ks.Refresh(t.Context()); !errors.Is(err, middleware.ErrClosed) {
		t.Fatalf("Refresh after Close: err = %v, want ErrClosed", err)
	}
}

func TestRemoteKeySetContextStopsIt(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	srv := newJWKSServer(t, k)
	ctx, cancel := context.WithCancel(t.Context())
	ks, err := middleware.NewRemoteKeySet(ctx, srv.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if err := ks.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if remoteGoroutines() == 0 {
		t.Fatal("no refresh goroutine while running")
	}
	cancel()
	waitFor(t, "no RemoteKeySet goroutine", func() bool { return remoteGoroutines() == 0 })
}

func TestVerifierCloseStopsOwnedKeySet(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	srv := newJWKSServer(t, k)
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithJWKSURL(srv.JWKSURL()),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), mint(t, k, time.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	if remoteGoroutines() == 0 {
		t.Fatal("no refresh goroutine while running")
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if n := remoteGoroutines(); n != 0 {
		t.Fatalf("%d RemoteKeySet goroutines after Close", n)
	}
	if err := v.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestDiscovery(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	newV := func(t *testing.T, srv *jwksServer) *middleware.Verifier {
		v, err := middleware.NewVerifier(
			middleware.WithIssuer(srv.URL),
			middleware.WithAudience(testAudience),
			middleware.WithDiscovery(),
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	tok := func(srv *jwksServer) string {
		return mint(t, k, time.Now(), func(c *token.Payload) { c.Issuer = srv.URL })
	}

	t.Run("jwks_uri followed", func(t *testing.T) {
		srv := newJWKSServer(t, k)
		v := newV(t, srv)
		for range 3 {
			c, err := v.Verify(t.Context(), tok(srv))
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != srv.URL {
				t.Fatalf("issuer = %q", c.Issuer)
			}
		}
		if d, j := srv.discHits.Load(), srv.jwksHits.Load(); d != 1 || j != 1 {
			t.Fatalf("discovery fetched %d times, JWKS %d; want 1 and 1", d, j)
		}
	})
	t.Run("issuer mismatch refused", func(t *testing.T) {
		srv := newJWKSServer(t, k)
		srv.setDiscoveryIssuer("https://evil.example.com")
		v := newV(t, srv)
		_, err := v.Verify(t.Context(), tok(srv))
		if !errors.Is(err, middleware.ErrUnavailable) || !errors.Is(err, middleware.ErrFetch) {
			t.Fatalf("err = %v, want ErrUnavailable and ErrFetch", err)
		}
		if n := srv.jwksHits.Load(); n != 0 {
			t.Fatalf("JWKS of an unverified issuer fetched %d times", n)
		}
	})
	t.Run("issuer differing by a trailing slash refused", func(t *testing.T) {
		srv := newJWKSServer(t, k)
		ks, err := middleware.NewDiscoveryKeySet(t.Context(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		defer ks.Close()
		if err := ks.Refresh(t.Context()); !errors.Is(err, middleware.ErrFetch) {
			t.Fatalf("Refresh: err = %v, want ErrFetch", err)
		}
	})
	t.Run("issuer with a trailing slash", func(t *testing.T) {
		srv := newJWKSServer(t, k)
		srv.setDiscoveryIssuer(srv.URL + "/")
		ks, err := middleware.NewDiscoveryKeySet(t.Context(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		defer ks.Close()
		if err := ks.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.VerificationKey(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		if n := srv.discHits.Load(); n != 1 {
			t.Fatalf("discovery fetched %d times", n)
		}
	})
}

func TestRemoteKeySetResponseSizeCap(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	srv := newJWKSServer(t, k)
	good := *srv.body.Load()
	srv.setBody(append(append([]byte{}, good...), bytes.Repeat([]byte(" "), 2048)...))
	r := newRemote(t, srv, middleware.WithMaxResponseSize(1024))
	if err := r.ks.Refresh(t.Context()); !errors.Is(err, middleware.ErrFetch) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Refresh: err = %v, want a size error", err)
	}
	if err := r.verify(t, k); !errors.Is(err, middleware.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	srv.setBody(good)
	if err := r.ks.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, r, k)
}

// hangingServer never answers until its client gives up.
func hangingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRemoteKeySetTimeouts(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	t.Run("fetch timeout", func(t *testing.T) {
		srv := hangingServer(t)
		ks, err := middleware.NewRemoteKeySet(t.Context(), srv.URL, middleware.WithFetchTimeout(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer ks.Close()
		start := time.Now()
		err = ks.Refresh(t.Context())
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
			t.Fatalf("Refresh = %v after %v, want a deadline error soon", err, time.Since(start))
		}
	})
	t.Run("caller's context honoured, Close cancels the fetch", func(t *testing.T) {
		srv := hangingServer(t)
		ks, err := middleware.NewRemoteKeySet(t.Context(), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		v, err := middleware.NewVerifier(middleware.WithIssuer(testIssuer), middleware.WithAudience(testAudience), middleware.WithKeySet(ks))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = v.Verify(ctx, mint(t, k, time.Now(), nil))
		if !errors.Is(err, middleware.ErrUnavailable) || time.Since(start) > 3*time.Second {
			t.Fatalf("Verify = %v after %v, want ErrUnavailable soon", err, time.Since(start))
		}
		start = time.Now()
		ks.Close() // the fetch is still in flight: Close must end it
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Close took %v", d)
		}
		if n := remoteGoroutines(); n != 0 {
			t.Fatalf("%d RemoteKeySet goroutines after Close", n)
		}
	})
}

func TestRemoteKeySetNoKid(t *testing.T) {
	es, ed := testKey(t, token.ES256, 0), testKey(t, token.EdDSA, 0)
	noKid := func(k *token.Key, method jwt.SigningMethod) string {
		return forge(t, method, map[string]any{"typ": token.TypeAccess}, accessClaims(time.Now()), k.Private)
	}
	one := newRemote(t, newJWKSServer(t, es))
	if _, err := one.v.Verify(t.Context(), noKid(es, jwt.SigningMethodES256)); err != nil {
		t.Fatalf("no kid, one key: %v", err)
	}
	two := newRemote(t, newJWKSServer(t, es, ed))
	if _, err := two.v.Verify(t.Context(), noKid(es, jwt.SigningMethodES256)); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("no kid, two keys: err = %v, want ErrUnknownKey", err)
	}
}

func TestNewRemoteKeySetConfig(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []middleware.KeySetOption
		want []string // substrings of the error; nil: valid
	}{
		{"valid", "https://auth.example.com/jwks.json", nil, nil},
		{"relative URL", "/jwks.json", nil, []string{"not an absolute"}},
		{"ftp URL", "ftp://auth.example.com/jwks.json", nil, []string{"not an absolute"}},
		{"every problem at once", "", []middleware.KeySetOption{
			middleware.WithFetchTimeout(0),
			middleware.WithMaxResponseSize(token.MaxJWKSSize + 1),
			middleware.WithRefetchInterval(-1),
			middleware.WithCacheTTL(time.Hour, 2*time.Hour, time.Hour),
			middleware.WithClock(nil),
		}, []string{"not an absolute", "timeout", "max response size", "refetch interval", "bounds", "default cache TTL", "clock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := middleware.NewRemoteKeySet(t.Context(), tt.url, tt.opts...)
			wantConfigError(t, err, tt.want)
			if err == nil {
				ks.Close()
			}
		})
	}
}

// TestRemoteKeySetRecoversInBackground checks that after a failed first
// fetch the set is retried with backoff, with no lookup asking, so keys are
// ready once authd answers again.
func TestRemoteKeySetRecoversInBackground(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	srv := newJWKSServer(t, k)
	srv.status.Store(http.StatusServiceUnavailable)
	ks, err := middleware.NewRemoteKeySet(t.Context(), srv.JWKSURL(), middleware.WithRefetchInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.VerificationKey(t.Context(), k.ID); !errors.Is(err, token.ErrKeySetUnavailable) || !errors.Is(err, middleware.ErrFetch) {
		t.Fatalf("err = %v, want token.ErrKeySetUnavailable and ErrFetch", err)
	}
	waitFor(t, "a background retry", func() bool { return srv.jwksHits.Load() >= 2 })
	srv.status.Store(http.StatusOK)
	hits := srv.jwksHits.Load()
	waitFor(t, "a background fetch once authd answers", func() bool { return srv.jwksHits.Load() > hits })
	waitFor(t, "the key", func() bool {
		_, err := ks.VerificationKey(t.Context(), k.ID)
		return err == nil
	})
}
