package denylist_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/denylist/denylisttest"
	"github.com/authd/authd/pkg/redisurl"
)

// layouts are the key layouts every topology is tested with.
var layouts = []denylist.Layout{denylist.LayoutV1V2, denylist.LayoutV2}

// runSuites runs the denylist conformance suite, against Redis and
// against a Mirror of it, for each layout, on the deployment client
// reaches. Each sub-test has a prefix of its own.
func runSuites(t *testing.T, client redis.UniversalClient) {
	for _, l := range layouts {
		t.Run("Redis/"+l.String(), func(t *testing.T) {
			denylisttest.Run(t, func(t *testing.T, clock func() time.Time) denylist.Denylist {
				prefix := testenv.RandomName("authdtest:") + ":"
				return denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock), denylist.WithLayout(l))
			})
		})
		t.Run("Mirror/"+l.String(), func(t *testing.T) {
			denylisttest.Run(t, func(t *testing.T, clock func() time.Time) denylist.Denylist {
				prefix := testenv.RandomName("authdtest:") + ":"
				return mirrored{
					Redis:  denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock), denylist.WithLayout(l)),
					mirror: newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithClock(clock), denylist.WithLayout(l)),
				}
			}, denylisttest.WithExpiryGranularity(time.Second))
		})
	}
}

// clientOf builds the client of an AUTHD_REDIS_URL, with short timeouts.
func clientOf(t *testing.T, url string) redis.UniversalClient {
	return testenv.ClientOf(t, url, redisurl.ClientOptions{DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
}

// TestCluster runs the suites on a Redis Cluster of three primaries and
// three replicas, then checks that v2 keys spread over the shards and
// that the mirror hears the revocations every shard publishes.
func TestCluster(t *testing.T) {
	cl := testenv.RedisCluster(t)
	client := clientOf(t, cl.URL)
	if _, ok := client.(*redis.ClusterClient); !ok {
		t.Fatalf("client of %s is %T", cl.URL, client)
	}
	t.Run("Suites", func(t *testing.T) { runSuites(t, client) })
	t.Run("Spread", func(t *testing.T) { testSpread(t, client.(*redis.ClusterClient)) })
	t.Run("MirrorHearsEveryShard", func(t *testing.T) { testMirrorEveryShard(t, client.(*redis.ClusterClient)) })
}

// spreadEnv sets the number of revocations testSpread writes, for the
// 100,000 figure in docs/benchmarks.md; the default keeps the run short.
const spreadEnv = "AUTHD_TEST_SPREAD_REVOCATIONS"

// spreadSize is the number of revocations testSpread writes: 10,000, or
// the positive integer in spreadEnv.
func spreadSize(t *testing.T) int {
	v := os.Getenv(spreadEnv)
	if v == "" {
		return 10_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", spreadEnv, v)
	}
	return n
}

// testSpread: 10,000 revocations (or spreadEnv's number) of distinct
// subjects, layout v2, leave each primary within ±15% of the mean number
// of keys (DBSIZE), and each of them is refused, checked in concurrent
// batches.
func testSpread(t *testing.T, client *redis.ClusterClient) {
	ctx := t.Context()
	// Nothing else may be in the cluster: the suites ran first, so
	// flush the primaries (this cluster belongs to this test alone).
	testenv.FlushPrimaries(t, client)
	n := spreadSize(t)
	dl := denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2))
	until := time.Now().Add(time.Hour)
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if err := dl.RevokeToken(ctx, fmt.Sprint("user-", i), fmt.Sprint("jti-", i), until); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	testenv.CheckSpread(t, client, int64(n))

	// Every one is refused, through concurrent (so batched, so split by
	// slot) checks; unrevoked tokens of the same users are not.
	wg = sync.WaitGroup{}
	var bad sync.Map
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				sub := fmt.Sprint("user-", i)
				if err := dl.Check(ctx, denylist.Token{JTI: fmt.Sprint("jti-", i), Subject: sub, SID: "s", IssuedAt: time.Now()}); !errors.Is(err, denylist.ErrRevoked) {
					bad.Store(i, err)
				}
				if err := dl.Check(ctx, denylist.Token{JTI: "other", Subject: sub, SID: "s", IssuedAt: time.Now()}); err != nil {
					bad.Store(-i-1, err)
				}
			}
		})
	}
	wg.Wait()
	bad.Range(func(k, v any) bool {
		t.Errorf("check %v = %v", k, v)
		return false
	})
}

// testMirrorEveryShard: a mirror on a cluster holds revocations written on
// every shard, and its catch-up covers all of them.
func testMirrorEveryShard(t *testing.T, client *redis.ClusterClient) {
	ctx := t.Context()
	prefix := testenv.RandomName("authdtest:") + ":"
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV2))
	until := time.Now().Add(time.Hour)
	// Before the mirror starts: copied from every master.
	for i := range 30 {
		if err := dl.RevokeToken(ctx, fmt.Sprint("before-", i), fmt.Sprint("jb-", i), until); err != nil {
			t.Fatal(err)
		}
	}
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV2))
	catchUp(t, m)
	// After: delivered as events, whichever shard published them.
	for i := range 30 {
		if err := dl.RevokeSessions(ctx, fmt.Sprint("after-", i), []string{fmt.Sprint("sa-", i)}, until); err != nil {
			t.Fatal(err)
		}
	}
	catchUp(t, m)
	for i := range 30 {
		expect(t, m, denylist.Token{JTI: fmt.Sprint("jb-", i), Subject: fmt.Sprint("before-", i)}, denylist.ErrRevoked)
		expect(t, m, denylist.Token{JTI: "x", SID: fmt.Sprint("sa-", i), Subject: fmt.Sprint("after-", i)}, denylist.ErrRevoked)
	}
	expect(t, m, denylist.Token{JTI: "x", SID: "y", Subject: "z"}, nil)
}

// TestSentinel runs the suites through Sentinel, then fails the primary
// over: checks and writes work again through the new primary, and the
// mirror resynchronises, failing closed meanwhile.
func TestSentinel(t *testing.T) {
	s := testenv.RedisSentinel(t)
	client := clientOf(t, s.URL)
	t.Run("Suites", func(t *testing.T) { runSuites(t, client) })
	t.Run("Failover", func(t *testing.T) { testFailover(t, s, client) })
}

func testFailover(t *testing.T, s *testenv.Sentinel, client redis.UniversalClient) {
	ctx := t.Context()
	prefix := testenv.RandomName("authdtest:") + ":"
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	m := newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithMaxStaleness(500*time.Millisecond))
	until := time.Now().Add(time.Hour)
	before := denylist.Token{JTI: "j-before", Subject: "u-before", IssuedAt: time.Now()}
	if err := dl.RevokeToken(ctx, before.Subject, before.JTI, until); err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: make sure the replica has the entry,
	// so that this test is about reaching the new primary, not about
	// losing writes (which WAIT, later, is to address).
	if n, err := client.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v", n, err)
	}
	catchUp(t, m)
	expect(t, m, before, denylist.ErrRevoked)

	primary := s.Failover(t)
	t.Logf("new primary %s", primary)

	// Writes and checks reach the new primary within a few seconds.
	after := denylist.Token{JTI: "j-after", SID: "s-after", Subject: "u-after", IssuedAt: time.Now()}
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for {
		if err = dl.RevokeSessions(ctx, after.Subject, []string{after.SID}, until); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RevokeSessions after the failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tok := range []denylist.Token{before, after} {
		if err := dl.Check(ctx, tok); !errors.Is(err, denylist.ErrRevoked) {
			t.Errorf("Check(%s) after the failover = %v, want ErrRevoked", tok.JTI, err)
		}
	}
	direct := redis.NewClient(&redis.Options{Addr: primary})
	defer direct.Close()
	if n, err := direct.Exists(ctx, prefix+"{u-after}:sid:s-after").Result(); err != nil || n != 1 {
		t.Errorf("the write after the failover is not on the new primary %s: %d, %v", primary, n, err)
	}

	// The mirror follows the new primary: it resynchronises and then
	// holds both revocations.
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		if err := m.CatchUp(cctx); err != nil {
			t.Fatalf("mirror CatchUp after the failover: %v", err)
		}
		if errors.Is(m.Check(ctx, after), denylist.ErrRevoked) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	expect(t, m, before, denylist.ErrRevoked)
	expect(t, m, after, denylist.ErrRevoked)
	expect(t, m, denylist.Token{JTI: "j-other", Subject: "u-other"}, nil)
}

// TestMirrorFollowsServerSwitch: when the client's ordinary connections
// reach another server (a Sentinel failover moves them at once) while the
// subscription still reaches the old one, which keeps answering PINGs,
// the mirror notices within about a ping interval and copies from the new
// server.
func TestMirrorFollowsServerSwitch(t *testing.T) {
	a, b := testenv.RedisServer(t), testenv.RedisServer(t)
	ctx := t.Context()
	until := time.Now().Add(time.Hour)
	onA := denylist.NewRedis(a.Client(t))
	onB := denylist.NewRedis(b.Client(t))
	if err := onA.RevokeToken(ctx, "u", "j-a", until); err != nil {
		t.Fatal(err)
	}
	if err := onB.RevokeToken(ctx, "u", "j-b", until); err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, a.Addr)
	// Short-lived pooled connections stand for go-redis dropping its
	// connections to the old master on a switch.
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr, ConnMaxLifetime: 20 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	const bound = 400 * time.Millisecond
	m := newMirror(t, client, denylist.WithMaxStaleness(bound))
	catchUp(t, m)
	expect(t, m, denylist.Token{JTI: "j-a", Subject: "u"}, denylist.ErrRevoked)
	expect(t, m, denylist.Token{JTI: "j-b", Subject: "u"}, nil)

	proxy.Retarget(b.Addr)
	start := time.Now()
	for {
		if errors.Is(m.Check(ctx, denylist.Token{JTI: "j-b", Subject: "u"}), denylist.ErrRevoked) {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the mirror still follows the old server 5s after the switch")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("copied from the new server %v after the switch (bound %v)", time.Since(start), bound)
	expect(t, m, denylist.Token{JTI: "j-a", Subject: "u"}, nil) // the old server's copy is gone
}
