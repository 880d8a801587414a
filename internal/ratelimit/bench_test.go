package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// benchLimit is a login-sized limit. On one key the burst is spent at
// once, so those cases time the denial path, the one a flood takes.
var benchLimit = ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 10}

// keys are built before timing so that the benchmarks measure Allow, not
// strconv.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "ip:198.51.100." + strconv.Itoa(i)
	}
	return keys
}

func BenchmarkMemoryAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("parallel/distinct keys", func(b *testing.B) {
		m := ratelimit.NewMemory()
		keys := benchKeys(1 << 16)
		var next atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := next.Add(1 << 12)
			for pb.Next() {
				i++
				if _, err := m.Allow(ctx, keys[i%uint64(len(keys))], benchLimit); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("parallel/one key", func(b *testing.B) {
		m := ratelimit.NewMemory()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Allow(ctx, "email:alice@example.com", benchLimit); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkRedisAllow(b *testing.B) {
	client, prefix := testRedisB(b)
	l := ratelimit.NewRedis(client, ratelimit.WithKeyPrefix(prefix))
	ctx := context.Background()
	keys := benchKeys(1 << 10)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := l.Allow(ctx, keys[i%len(keys)], benchLimit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, keys[next.Add(1)%uint64(len(keys))], benchLimit); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkBackoffDelay(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		new  func(b *testing.B) ratelimit.Backoff
	}{
		{"memory", func(b *testing.B) ratelimit.Backoff {
			m, _ := ratelimit.NewMemoryBackoff(ratelimit.DefaultBackoffPolicy())
			return m
		}},
		{"redis", func(b *testing.B) ratelimit.Backoff {
			client, prefix := testRedisB(b)
			r, _ := ratelimit.NewRedisBackoff(client, ratelimit.DefaultBackoffPolicy(), ratelimit.WithKeyPrefix(prefix))
			return r
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bo := bc.new(b)
			if _, err := bo.Failure(ctx, "alice@example.com"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bo.Delay(ctx, "alice@example.com"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
