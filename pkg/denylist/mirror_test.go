package denylist_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/denylist/denylisttest"
)

// newMirror starts a Mirror closed at the end of the test.
func newMirror(t testing.TB, client redis.UniversalClient, opts ...denylist.MirrorOption) *denylist.Mirror {
	t.Helper()
	m := denylist.NewMirror(context.Background(), client, opts...)
	t.Cleanup(func() { m.Close() })
	return m
}

// catchUp waits until m has applied every revocation written so far.
func catchUp(t testing.TB, m *denylist.Mirror) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.CatchUp(ctx); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
}

// proxiedClient returns a client of the shared test Redis that goes
// through a tcpProxy of its own.
func proxiedClient(t *testing.T, direct *redis.Client) (*redis.Client, *tcpProxy) {
	t.Helper()
	p := newTCPProxy(t, direct.Options().Addr)
	opts, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	opts.Addr = p.Addr()
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c, p
}

// mirrored is a Denylist whose writes go to Redis and whose checks are
// answered by a Mirror of it, once the mirror has caught up with them:
// the conformance suite then holds the mirror to Redis's behaviour.
type mirrored struct {
	*denylist.Redis
	mirror *denylist.Mirror
}

func (d mirrored) Check(ctx context.Context, tok denylist.Token) error {
	if err := d.mirror.CatchUp(ctx); err != nil {
		return err
	}
	return d.mirror.Check(ctx, tok)
}

func (d mirrored) Ping(ctx context.Context) error {
	if err := d.mirror.CatchUp(ctx); err != nil {
		return err
	}
	return d.mirror.Ping(ctx)
}

func TestMirrorConformance(t *testing.T) {
	testenv.Redis(t)
	denylisttest.Run(t, func(t *testing.T, clock func() time.Time) denylist.Denylist {
		client, prefix := testenv.Redis(t)
		return mirrored{
			Redis:  denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock)),
			mirror: newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock)),
		}
	}, denylisttest.WithExpiryGranularity(time.Second)) // events carry until in whole seconds, rounded up
}

// expect fails t unless m.Check(tok) is nil (want nil) or matches want.
func expect(t *testing.T, m denylist.Checker, tok denylist.Token, want error) {
	t.Helper()
	err := m.Check(t.Context(), tok)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("Check(%+v) = %v, want %v", tok, err, want)
	}
}

// TestMirrorCopiesEntries: entries written before the mirror starts are
// copied, with their expiry, for any prefix (glob characters included)
// and nothing outside it.
func TestMirrorCopiesEntries(t *testing.T) {
	for _, tc := range []struct{ name, suffix string }{
		{"plain prefix", ""},
		{"prefix with glob characters", "a*b?[c]\\:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, base := testenv.Redis(t)
			prefix := base + tc.suffix
			clock := newManualClock()
			ctx := t.Context()
			dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock.Now))
			now := clock.Now()
			err := errors.Join(
				dl.RevokeToken(ctx, "u1", "j1", now.Add(time.Hour)),
				dl.RevokeToken(ctx, "u1", "j-short", now.Add(time.Minute)),
				dl.RevokeSessions(ctx, "u1", []string{"s1", "s 2"}, now.Add(time.Hour)),
				dl.RevokeUserBefore(ctx, "u1", now, now.Add(time.Hour)),
				dl.RevokeUserBefore(ctx, "u1", now.Add(-time.Hour), now.Add(time.Hour)), // lower: ignored
				client.Set(ctx, prefix+"jti:forever", "1", 0).Err(),
				client.Set(ctx, prefix+"sub:corrupt", "not a number", time.Hour).Err(),
				client.Set(ctx, prefix+"other:j2", "1", time.Hour).Err(),
				// Matched by the prefix read as a glob, not as a string.
				client.Set(ctx, base+"aXXbYc:jti:decoy", "1", time.Hour).Err(),
			)
			if err != nil {
				t.Fatal(err)
			}
			m := newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock.Now))
			catchUp(t, m)
			if !m.Synced() || m.Ping(ctx) != nil {
				t.Fatalf("Synced = %v, Ping = %v after CatchUp", m.Synced(), m.Ping(ctx))
			}
			if got := m.Len(); got != 7 {
				t.Errorf("Len = %d, want 7 (j1, j-short, s1, s 2, u1, forever, corrupt)", got)
			}
			iat := now.Add(-time.Minute)
			for _, c := range []struct {
				tok  denylist.Token
				want error
			}{
				{denylist.Token{JTI: "j1", IssuedAt: iat}, denylist.ErrRevoked},
				{denylist.Token{JTI: "j-short", IssuedAt: iat}, denylist.ErrRevoked},
				{denylist.Token{JTI: "jx", SID: "s 2", IssuedAt: iat}, denylist.ErrRevoked},
				{denylist.Token{JTI: "jx", Subject: "u1", IssuedAt: iat}, denylist.ErrRevoked},
				{denylist.Token{JTI: "jx", Subject: "u1", IssuedAt: now}, nil},
				{denylist.Token{JTI: "forever", IssuedAt: iat}, denylist.ErrRevoked},
				{denylist.Token{JTI: "jx", Subject: "corrupt", IssuedAt: now.Add(time.Hour)}, denylist.ErrRevoked},
				{denylist.Token{JTI: "j2", IssuedAt: iat}, nil},
				{denylist.Token{JTI: "decoy", IssuedAt: iat}, nil},
			} {
				expect(t, m, c.tok, c.want)
			}

			// Expiry follows the mirror's clock: until = now + PTTL.
			clock.Advance(time.Minute + time.Second)
			expect(t, m, denylist.Token{JTI: "j-short", IssuedAt: iat}, nil)
			expect(t, m, denylist.Token{JTI: "j1", IssuedAt: iat}, denylist.ErrRevoked)
			clock.Advance(time.Hour)
			expect(t, m, denylist.Token{JTI: "j1", IssuedAt: iat}, nil)
			expect(t, m, denylist.Token{JTI: "forever", IssuedAt: iat}, denylist.ErrRevoked)
		})
	}
}

// TestMirrorFollowsEvents: revocations written after the copy arrive as
// events, expire at their (whole-second) until, and a cutoff only moves
// forward.
func TestMirrorFollowsEvents(t *testing.T) {
	client, prefix := testenv.Redis(t)
	clock := newManualClock() // on a whole second: until needs no rounding
	ctx := t.Context()
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock.Now))
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock.Now))
	catchUp(t, m)
	now := clock.Now()
	iat := now.Add(-time.Minute)
	tokens := []denylist.Token{
		{JTI: "j1", IssuedAt: iat},
		{JTI: "jx", SID: "s1", IssuedAt: iat},
		{JTI: "jx", Subject: "u1", IssuedAt: iat},
	}
	for _, tok := range tokens {
		expect(t, m, tok, nil)
	}
	err := errors.Join(
		dl.RevokeToken(ctx, "u1", "j1", now.Add(10*time.Minute)),
		dl.RevokeSessions(ctx, "u1", []string{"s1"}, now.Add(10*time.Minute)),
		dl.RevokeUserBefore(ctx, "u1", now, now.Add(10*time.Minute)),
		dl.RevokeUserBefore(ctx, "u1", now.Add(-time.Hour), now.Add(20*time.Minute)), // lower cutoff, later until
	)
	if err != nil {
		t.Fatal(err)
	}
	catchUp(t, m)
	for _, tok := range tokens {
		expect(t, m, tok, denylist.ErrRevoked)
	}
	expect(t, m, denylist.Token{JTI: "jx", Subject: "u1", IssuedAt: now}, nil) // iat == cutoff

	clock.Advance(10 * time.Minute)
	expect(t, m, tokens[0], nil)
	expect(t, m, tokens[1], nil)
	expect(t, m, tokens[2], denylist.ErrRevoked) // the cutoff stayed, until extended
	clock.Advance(10 * time.Minute)
	expect(t, m, tokens[2], nil)
}

// TestMirrorFailsClosedUntilSynced: with Redis unreachable the mirror
// never claims a token is not revoked.
func TestMirrorFailsClosedUntilSynced(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	for _, m := range []*denylist.Mirror{newMirror(t, client), newMirror(t, nil)} {
		tok := denylist.Token{JTI: "j1", Subject: "u1", IssuedAt: time.Now()}
		if err := m.Check(t.Context(), tok); !errors.Is(err, denylist.ErrUnavailable) || errors.Is(err, denylist.ErrRevoked) {
			t.Errorf("Check = %v, want ErrUnavailable", err)
		}
		if m.Synced() {
			t.Error("Synced with no Redis")
		}
		if err := m.Ping(t.Context()); !errors.Is(err, denylist.ErrUnavailable) {
			t.Errorf("Ping = %v, want ErrUnavailable", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		err := m.CatchUp(ctx)
		cancel()
		if !errors.Is(err, denylist.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("CatchUp = %v, want ErrUnavailable and the context's error", err)
		}
	}
}

// waitUnavailable polls m until Check fails with ErrUnavailable and
// returns how long that took.
func waitUnavailable(t *testing.T, m *denylist.Mirror, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	tok := denylist.Token{JTI: "probe"}
	for {
		err := m.Check(t.Context(), tok)
		if errors.Is(err, denylist.ErrUnavailable) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("Check = %v while waiting for ErrUnavailable", err)
		}
		if time.Since(start) > limit {
			t.Fatalf("the mirror still answered after %v", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMirrorResyncsAfterDisconnect: when its connection breaks the mirror
// fails closed, and when it is back a fresh copy brings in what was
// revoked meanwhile, though no event reached it.
func TestMirrorResyncsAfterDisconnect(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(p *tcpProxy)
	}{
		{"connection closed", (*tcpProxy).Cut},
		{"connection silent", (*tcpProxy).Freeze},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct, prefix := testenv.Redis(t)
			viaProxy, proxy := proxiedClient(t, direct)
			const bound = 400 * time.Millisecond
			var logs syncBuffer
			m := newMirror(t, viaProxy, denylist.WithKeyPrefix(prefix), denylist.WithMaxStaleness(bound),
				denylist.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			dl := denylist.NewRedis(direct, denylist.WithKeyPrefix(prefix))
			ctx := t.Context()
			until := time.Now().Add(time.Hour)
			catchUp(t, m)
			if err := dl.RevokeToken(ctx, "u1", "before", until); err != nil {
				t.Fatal(err)
			}
			catchUp(t, m)
			expect(t, m, denylist.Token{JTI: "before"}, denylist.ErrRevoked)

			tc.cut(proxy)
			took := waitUnavailable(t, m, 5*time.Second)
			t.Logf("failed closed %v after the break (bound %v)", took, bound)
			if took > bound+200*time.Millisecond {
				t.Errorf("failed closed only after %v; the bound is %v", took, bound)
			}
			err := errors.Join(
				dl.RevokeToken(ctx, "u1", "during", until),
				dl.RevokeSessions(ctx, "u1", []string{"s-during"}, until),
				dl.RevokeUserBefore(ctx, "u-during", time.Now(), until),
			)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(bound) // the mirror retries meanwhile, and keeps failing closed
			expect(t, m, denylist.Token{JTI: "during"}, denylist.ErrUnavailable)
			expect(t, m, denylist.Token{JTI: "other"}, denylist.ErrUnavailable)

			proxy.Restore()
			catchUp(t, m)
			expect(t, m, denylist.Token{JTI: "before"}, denylist.ErrRevoked)
			expect(t, m, denylist.Token{JTI: "during"}, denylist.ErrRevoked)
			expect(t, m, denylist.Token{JTI: "j", SID: "s-during"}, denylist.ErrRevoked)
			expect(t, m, denylist.Token{JTI: "j", Subject: "u-during", IssuedAt: time.Now().Add(-time.Minute)}, denylist.ErrRevoked)
			expect(t, m, denylist.Token{JTI: "other"}, nil)
			if !bytes.Contains(logs.Bytes(), []byte("out of sync")) || bytes.Count(logs.Bytes(), []byte("in sync")) < 2 {
				t.Errorf("logs do not show the loss and the return of sync:\n%s", logs.Bytes())
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.b.Bytes())
}

// TestMirrorUnreadableEvent: an event the mirror cannot parse makes it
// copy the entries again rather than skip a revocation.
func TestMirrorUnreadableEvent(t *testing.T) {
	client, prefix := testenv.Redis(t)
	var logs syncBuffer
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix),
		denylist.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	catchUp(t, m)
	ctx := t.Context()
	// As if a writer had published a revocation in a form this version
	// cannot read: the key is there, the event unusable.
	if err := client.Set(ctx, prefix+"jti:j1", "1", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.Publish(ctx, prefix+"events", "jti soon j1").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains(logs.Bytes(), []byte("unreadable event")) {
		if time.Now().After(deadline) {
			t.Fatalf("no resync logged:\n%s", logs.Bytes())
		}
		time.Sleep(5 * time.Millisecond)
	}
	catchUp(t, m)
	expect(t, m, denylist.Token{JTI: "j1"}, denylist.ErrRevoked)
}

// TestMirrorClose: a closed mirror stops and refuses to answer.
func TestMirrorClose(t *testing.T) {
	client, prefix := testenv.Redis(t)
	before := runtime.NumGoroutine()
	m := denylist.NewMirror(context.Background(), client, denylist.WithKeyPrefix(prefix))
	catchUp(t, m)
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	expect(t, m, denylist.Token{JTI: "j1"}, denylist.ErrUnavailable)
	if err := m.Ping(t.Context()); !errors.Is(err, denylist.ErrUnavailable) {
		t.Errorf("Ping after Close = %v", err)
	}
	if err := m.CatchUp(t.Context()); !errors.Is(err, denylist.ErrUnavailable) {
		t.Errorf("CatchUp after Close = %v", err)
	}
	waitGoroutines(t, before)

	// Ending the context given to NewMirror stops it too.
	ctx, cancel := context.WithCancel(context.Background())
	m2 := denylist.NewMirror(ctx, client, denylist.WithKeyPrefix(prefix))
	catchUp(t, m2)
	cancel()
	waitGoroutines(t, before)
	m2.Close()
}

// waitGoroutines waits for the goroutine count to fall back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMirrorCheckAllocs: the hot path allocates nothing, revoked or not,
// and neither does failing closed.
func TestMirrorCheckAllocs(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix))
	ctx := t.Context()
	if err := dl.RevokeToken(ctx, "u1", "revoked", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	catchUp(t, m)
	unsynced := newMirror(t, nil)
	for _, c := range []struct {
		m   *denylist.Mirror
		tok denylist.Token
	}{
		{m, denylist.Token{JTI: "fine", SID: "s1", Subject: "u1", IssuedAt: time.Now()}},
		{m, denylist.Token{JTI: "revoked", SID: "s1", Subject: "u1", IssuedAt: time.Now()}},
		{unsynced, denylist.Token{JTI: "fine"}},
	} {
		if n := testing.AllocsPerRun(100, func() { _ = c.m.Check(ctx, c.tok) }); n != 0 {
			t.Errorf("Check(%+v) allocates %v times, want 0", c.tok, n)
		}
	}
}

// TestMirrorPropagation measures the staleness of the mirror while
// connected: the time from the start of a revocation's write (one round
// trip to Redis) until the mirror's Check refuses the token, over 200
// revocations. The bound when disconnected is the staleness bound, tested
// by TestMirrorResyncsAfterDisconnect.
func TestMirrorPropagation(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix))
	catchUp(t, m)
	fromStart, fromReturn := measurePropagation(t, dl, m, 200)
	t.Logf("mirror staleness over %d revocations: from the write's start p50 %v p99 %v max %v; after the write returned p50 %v p99 %v max %v",
		len(fromStart), pct(fromStart, 50), pct(fromStart, 99), pct(fromStart, 100),
		pct(fromReturn, 50), pct(fromReturn, 99), pct(fromReturn, 100))
	if p99 := pct(fromStart, 99); p99 > denylist.DefaultMaxStaleness {
		t.Errorf("p99 %v exceeds the staleness bound %v", p99, denylist.DefaultMaxStaleness)
	}
}

// measurePropagation revokes n tokens one by one and, for each, spins on
// m.Check until it refuses the token. It returns the latencies measured
// from the start of the write and from its return.
func measurePropagation(t testing.TB, dl *denylist.Redis, m *denylist.Mirror, n int) (fromStart, fromReturn []time.Duration) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		tok := denylist.Token{JTI: fmt.Sprint("prop-", i)}
		start := time.Now()
		if err := dl.RevokeToken(ctx, "u1", tok.JTI, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		written := time.Now()
		for {
			err := m.Check(ctx, tok)
			if errors.Is(err, denylist.ErrRevoked) {
				break
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("revocation %d not seen after 5s", i)
			}
			runtime.Gosched()
		}
		seen := time.Now()
		fromStart = append(fromStart, seen.Sub(start))
		fromReturn = append(fromReturn, seen.Sub(written))
	}
	slices.Sort(fromStart)
	slices.Sort(fromReturn)
	return fromStart, fromReturn
}

// pct returns the p-th percentile of sorted d (p = 100: the maximum).
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)*p/100, len(d)-1)
	return d[i]
}
