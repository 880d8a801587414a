package revocation_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/revocation"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/teststore"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

func openStore(t *testing.T) store.Store { return openStoreTB(t) }

func openStoreTB(t testing.TB) store.Store {
	t.Helper()
	return teststore.SQLite(t)
}

// fixture is a recorder over a Redis server of the test's own (so that
// FLUSHDB touches nobody else's keys) and a SQLite store.
type fixture struct {
	st     store.Store
	client *redis.Client
	redis  *denylist.Redis
	rec    *revocation.Recorder
}

func newFixture(t *testing.T, client *redis.Client, restorer revocation.Restorer) *fixture {
	t.Helper()
	f := &fixture{st: openStore(t), client: client, redis: denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2))}
	if restorer == nil {
		restorer = f.redis
	}
	f.rec = revocation.New(revocation.Config{Store: f.st, Denylist: f.redis, Marker: f.redis, Restorer: restorer, MarkedChecker: f.redis})
	return f
}

func ownRedis(t *testing.T) *redis.Client {
	return testenv.RedisServer(t).Client(t)
}

var (
	tokJTI = denylist.Token{JTI: "j1", Subject: "u1", IssuedAt: time.Now()}
	tokSID = denylist.Token{JTI: "j2", SID: "s1", Subject: "u1", IssuedAt: time.Now()}
	tokCut = denylist.Token{JTI: "j3", Subject: "u2", IssuedAt: time.Now().Add(-time.Hour)}
)

// revokeAll revokes one token, one session and one user's earlier tokens.
func revokeAll(t *testing.T, d denylist.Denylist) {
	t.Helper()
	ctx := t.Context()
	until := time.Now().Add(time.Hour)
	if err := d.RevokeToken(ctx, "u1", "j1", until); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeSessions(ctx, "u1", []string{"s1"}, until); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeUserBefore(ctx, "u2", time.Now().Add(-time.Minute), until); err != nil {
		t.Fatal(err)
	}
}

func wantRevoked(t *testing.T, c denylist.Checker, toks ...denylist.Token) {
	t.Helper()
	for _, tok := range toks {
		if err := c.Check(t.Context(), tok); !errors.Is(err, denylist.ErrRevoked) {
			t.Errorf("Check(%s) = %v, want ErrRevoked", tok.JTI, err)
		}
	}
}

func syncOK(t *testing.T, r *revocation.Recorder) (revocation.Reason, revocation.RebuildStats) {
	t.Helper()
	why, stats, err := r.Sync(t.Context())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return why, stats
}

// A Redis flushed (or restarted empty) is rebuilt from the store on the
// next sync, every kind of entry included.
func TestRebuildAfterFlush(t *testing.T) {
	f := newFixture(t, ownRedis(t), nil)
	if err := f.rec.Check(t.Context(), tokJTI); !errors.Is(err, revocation.ErrRebuilding) || !errors.Is(err, denylist.ErrUnavailable) {
		t.Fatalf("Check before the first sync = %v, want ErrRebuilding (matching ErrUnavailable)", err)
	}
	if why, _ := syncOK(t, f.rec); why != revocation.ReasonStart {
		t.Fatalf("first sync on an empty Redis: reason %q, want %q", why, revocation.ReasonStart)
	}
	revokeAll(t, f.rec)
	wantRevoked(t, f.rec, tokJTI, tokSID, tokCut)
	if why, _ := syncOK(t, f.rec); why != "" {
		t.Fatalf("sync with nothing lost rebuilt: %q", why)
	}
	if err := f.client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	// The first check after the loss reads the missing marker with the
	// token's keys: refused, not "not revoked".
	if err := f.rec.Check(t.Context(), tokJTI); !errors.Is(err, revocation.ErrRebuilding) {
		t.Fatalf("Check right after FLUSHDB = %v, want ErrRebuilding", err)
	}
	why, stats := syncOK(t, f.rec)
	if why != revocation.ReasonMissing || stats.Entries != 3 {
		t.Fatalf("sync after FLUSHDB: reason %q, %d entries; want %q, 3", why, stats.Entries, revocation.ReasonMissing)
	}
	wantRevoked(t, f.rec, tokJTI, tokSID, tokCut)
	wantRevoked(t, f.redis, tokJTI, tokSID, tokCut) // in Redis itself, for every verifier
	if err := f.rec.Check(t.Context(), denylist.Token{JTI: "other", Subject: "u3", IssuedAt: time.Now()}); err != nil {
		t.Errorf("Check of a token never revoked = %v", err)
	}
}

// A fresh recorder (an authd start) over a Redis that holds its marker
// does not rebuild; over one that lost it, it does.
func TestSyncAtStart(t *testing.T) {
	client := ownRedis(t)
	f := newFixture(t, client, nil)
	syncOK(t, f.rec)
	revokeAll(t, f.rec)
	again := revocation.New(revocation.Config{Store: f.st, Denylist: f.redis, Marker: f.redis, Restorer: f.redis})
	if why, _ := syncOK(t, again); why != "" {
		t.Fatalf("start over a complete Redis rebuilt: %q", why)
	}
	wantRevoked(t, again, tokJTI, tokSID, tokCut)
}

// blockingRestorer holds a rebuild, once armed, until released.
type blockingRestorer struct {
	next    revocation.Restorer
	armed   atomic.Bool
	started chan struct{}
	release chan struct{}
}

func (b *blockingRestorer) Restore(ctx context.Context, e []denylist.Entry) error {
	if b.armed.Load() {
		close(b.started)
		<-b.release
	}
	return b.next.Restore(ctx, e)
}

// A revocation in the store that the denylist lacks (its writer died
// between the two writes) leaves the marker behind the store: the sync
// after the one that first sees the new generation rebuilds, and every
// check fails closed while it runs.
func TestFailClosedWhileBehind(t *testing.T) {
	client := ownRedis(t)
	st := openStore(t)
	rd := denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2))
	b := &blockingRestorer{next: rd, started: make(chan struct{}), release: make(chan struct{})}
	rec := revocation.New(revocation.Config{Store: st, Denylist: rd, Marker: rd, Restorer: b})
	syncOK(t, rec)
	if _, err := st.RecordRevocations(t.Context(), []store.Revocation{
		{Kind: store.RevocationSession, Subject: "u1", Value: "s1", Until: time.Now().Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	if why, _ := syncOK(t, rec); why != "" {
		t.Fatalf("sync right after the store write rebuilt (%q): it must leave the writer time to finish", why)
	}
	b.armed.Store(true)
	done := make(chan revocation.Reason)
	go func() {
		why, _, _ := rec.Sync(context.Background())
		done <- why
	}()
	<-b.started
	for _, tok := range []denylist.Token{tokSID, {JTI: "never", Subject: "u9", IssuedAt: time.Now()}} {
		if err := rec.Check(t.Context(), tok); !errors.Is(err, revocation.ErrRebuilding) {
			t.Errorf("Check(%s) during the rebuild = %v, want ErrRebuilding", tok.JTI, err)
		}
	}
	if err := rec.Ping(t.Context()); err == nil {
		t.Error("Ping during the rebuild = nil")
	}
	close(b.release)
	if why := <-done; why != revocation.ReasonBehind {
		t.Fatalf("reason %q, want %q", why, revocation.ReasonBehind)
	}
	wantRevoked(t, rec, tokSID)
	if err := rec.Check(t.Context(), denylist.Token{JTI: "never", Subject: "u9", IssuedAt: time.Now()}); err != nil {
		t.Errorf("Check after the rebuild = %v", err)
	}
}

// Another Redis behind the same address (a restart, a promoted replica)
// is rebuilt even when it holds a marker as high as the store's: writes
// acknowledged after the marker may be gone.
func TestRebuildOnNewIdentity(t *testing.T) {
	a, b := testenv.RedisServer(t), testenv.RedisServer(t)
	proxy := testenv.NewProxy(t, a.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: 1})
	t.Cleanup(func() { client.Close() })
	f := newFixture(t, client, nil)
	syncOK(t, f.rec)
	revokeAll(t, f.rec)
	gen, _ := f.st.RevocationGeneration(t.Context())
	if err := denylist.NewRedis(b.Client(t)).SetGeneration(t.Context(), gen); err != nil {
		t.Fatal(err)
	}
	proxy.Retarget(b.Addr)
	proxy.Cut() // drop the pooled connections to a
	proxy.Restore()
	var why revocation.Reason
	var stats revocation.RebuildStats
	deadline := time.Now().Add(5 * time.Second)
	for why == "" && time.Now().Before(deadline) {
		why, stats, _ = f.rec.Sync(t.Context())
	}
	if why != revocation.ReasonIdentity || stats.Entries != 3 {
		t.Fatalf("sync on another server: reason %q, %d entries; want %q, 3", why, stats.Entries, revocation.ReasonIdentity)
	}
	wantRevoked(t, f.rec, tokJTI, tokSID, tokCut)
}

// A denylist write that fails after its store record makes the next sync
// rebuild, so the revocation is in force once Redis answers again.
func TestRebuildAfterFailedWrite(t *testing.T) {
	node := testenv.RedisServer(t)
	proxy := testenv.NewProxy(t, node.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	f := newFixture(t, client, nil)
	syncOK(t, f.rec)
	proxy.Cut()
	err := f.rec.RevokeToken(t.Context(), "u1", "j1", time.Now().Add(time.Hour))
	if !errors.Is(err, denylist.ErrUnavailable) {
		t.Fatalf("RevokeToken with Redis cut = %v, want ErrUnavailable", err)
	}
	proxy.Restore()
	if why, _ := syncOK(t, f.rec); why != revocation.ReasonFailed {
		t.Fatalf("sync after the failed write: reason %q, want %q", why, revocation.ReasonFailed)
	}
	wantRevoked(t, f.redis, tokJTI)
}

// The in-process denylist has its marker in the process: a new one (an
// authd restart) starts missing and is filled from the store.
func TestMemoryRebuiltAtStart(t *testing.T) {
	st := openStore(t)
	first := revocation.New(revocation.Config{Store: st, Denylist: denylist.NewMemory()})
	syncOK(t, first)
	revokeAll(t, first)
	restarted := revocation.New(revocation.Config{Store: st, Denylist: denylist.NewMemory()})
	if why, stats := syncOK(t, restarted); why != revocation.ReasonStart || stats.Entries != 3 {
		t.Fatalf("start: reason %q, %d entries; want %q, 3", why, stats.Entries, revocation.ReasonStart)
	}
	wantRevoked(t, restarted, tokJTI, tokSID, tokCut)
}

// A store that refuses the record stops the revocation before the
// denylist: nothing is answered that the store does not hold.
func TestStoreFirst(t *testing.T) {
	st := openStore(t)
	mem := denylist.NewMemory()
	rec := revocation.New(revocation.Config{Store: st, Denylist: mem})
	syncOK(t, rec)
	st.Close()
	err := rec.RevokeToken(t.Context(), "u1", "j1", time.Now().Add(time.Hour))
	if !errors.Is(err, denylist.ErrUnavailable) {
		t.Fatalf("RevokeToken with the store closed = %v, want ErrUnavailable", err)
	}
	if mem.Len() != 0 {
		t.Fatalf("the denylist was written (%d entries) although the store was not", mem.Len())
	}
}
