package denylist_test

import (
	"strconv"
	"testing"
	"time"

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
		if err := dl.RevokeToken(ctx, "jti-"+id, until); err != nil {
			b.Fatal(err)
		}
		if err := dl.RevokeUserBefore(ctx, "user-"+id, now.Add(-time.Hour), until); err != nil {
			b.Fatal(err)
		}
	}
	if err := dl.RevokeSessions(ctx, sids, until); err != nil {
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
