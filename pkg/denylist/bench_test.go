package denylist_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// benchmarkCheck measures the common case: a token that is not revoked,
// so every entry kind is looked up, among n revocations of each kind.
func benchmarkCheck(b *testing.B, dl denylist.Denylist, n int) {
	ctx := b.Context()
	now := time.Now()
	until := now.Add(time.Hour)
	sids := make([]string, n)
	for i := range sids {
		id := strconv.Itoa(i)
		sids[i] = "sid-" + id
		if err := dl.RevokeToken(ctx, "user-"+id, "jti-"+id, until); err != nil {
			b.Fatal(err)
		}
		if err := dl.RevokeUserBefore(ctx, "user-"+id, now.Add(-time.Hour), until); err != nil {
			b.Fatal(err)
		}
	}
	if err := dl.RevokeSessions(ctx, "user-s", sids, until); err != nil {
		b.Fatal(err)
	}
	tok := denylist.Token{JTI: "jti-fresh", SID: "sid-fresh", Subject: "user-42", IssuedAt: now}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := dl.Check(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryCheck(b *testing.B) {
	benchmarkCheck(b, denylist.NewMemory(), 10_000)
}

func BenchmarkRedisCheck(b *testing.B) {
	client, prefix := testenv.Redis(b)
	// Fewer entries: each costs a round trip to write, and a Redis lookup
	// does not slow down with the number of keys.
	benchmarkCheck(b, denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), 1_000)
}

// BenchmarkMirrorCheck is BenchmarkRedisCheck answered by a Mirror of the
// same Redis: a lookup in memory instead of a round trip.
func BenchmarkMirrorCheck(b *testing.B) {
	client, prefix := testenv.Redis(b)
	m := newMirror(b, client, denylist.WithKeyPrefix(prefix))
	benchmarkCheck(b, &mirrorOf{denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), m}, 1_000)
}

// mirrorOf writes to Redis and checks with the mirror, after catching up
// once (benchmarkCheck writes everything before it starts checking).
type mirrorOf struct {
	*denylist.Redis
	m *denylist.Mirror
}

func (d *mirrorOf) Check(ctx context.Context, tok denylist.Token) error { return d.m.Check(ctx, tok) }

func (d *mirrorOf) RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error {
	if err := d.Redis.RevokeSessions(ctx, subject, sids, until); err != nil {
		return err
	}
	return d.m.CatchUp(ctx) // benchmarkCheck's last write
}

// BenchmarkMirrorPropagation measures how long a revocation takes to reach
// a Mirror: per op, one RevokeToken against Redis and spinning on Check
// until the mirror refuses the token. p50 and p99 are reported from the
// start of the write (which includes its round trip) and after-write from
// its return.
func BenchmarkMirrorPropagation(b *testing.B) {
	client, prefix := testenv.Redis(b)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	m := newMirror(b, client, denylist.WithKeyPrefix(prefix))
	catchUp(b, m)
	b.ResetTimer()
	fromStart, fromReturn := measurePropagation(b, dl, m, b.N)
	b.StopTimer()
	b.ReportMetric(float64(pct(fromStart, 50)), "p50-ns")
	b.ReportMetric(float64(pct(fromStart, 99)), "p99-ns")
	b.ReportMetric(float64(pct(fromReturn, 50)), "after-write-p50-ns")
	b.ReportMetric(float64(pct(fromReturn, 99)), "after-write-p99-ns")
}

// BenchmarkRedisCheckConcurrent is BenchmarkRedisCheck from 32 goroutines,
// as many requests as a busy authd has in flight: the checks that arrive
// while one is on the wire share its successor's MGET.
func BenchmarkRedisCheckConcurrent(b *testing.B) {
	client, prefix := testenv.Redis(b)
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	benchmarkCheck(b, denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)), 1_000)
}

// BenchmarkTopologyCheck compares a check on one Redis (the shared test
// server) and on a Redis Cluster of 3 primaries started for the run, for
// each key layout, from 32 goroutines as BenchmarkRedisCheckConcurrent:
// on the cluster a v2 check reads one slot, a v1+v2 check up to four
// (the v1 keys of one token hash apart), each batch one pipelined round
// trip per shard.
func BenchmarkTopologyCheck(b *testing.B) {
	single, prefix := testenv.Redis(b)
	cluster := testenv.RedisCluster(b).Client(b)
	for _, top := range []struct {
		name   string
		client redis.UniversalClient
	}{{"single", single}, {"cluster", cluster}} {
		for _, l := range []denylist.Layout{denylist.LayoutV1V2, denylist.LayoutV2} {
			b.Run(top.name+"/"+l.String(), func(b *testing.B) {
				b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
				p := prefix + top.name + l.String() + ":"
				benchmarkCheck(b, denylist.NewRedis(top.client, denylist.WithKeyPrefix(p), denylist.WithLayout(l)), 1_000)
			})
		}
	}
}
