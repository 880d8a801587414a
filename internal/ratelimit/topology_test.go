package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/ratelimittest"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/redisurl"
)

// clientOf builds the client of an AUTHD_REDIS_URL as authd does.
func clientOf(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	cfg, err := redisurl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.NewClient(redisurl.ClientOptions{})
	t.Cleanup(func() { c.Close() })
	return c
}

// runSuites runs the limiter and backoff conformance suites on the
// deployment client reaches, a prefix per sub-test.
func runSuites(t *testing.T, client redis.UniversalClient) {
	t.Run("Limiter", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T) (ratelimit.Limiter, ratelimittest.Env) {
			prefix := testenv.RandomName("authdtest:") + ":"
			return ratelimit.NewRedis(client, ratelimit.WithKeyPrefix(prefix)), ratelimittest.RealTime(redisSlack)
		})
	})
	t.Run("Backoff", func(t *testing.T) {
		ratelimittest.RunBackoff(t, func(t *testing.T, p ratelimit.BackoffPolicy) (ratelimit.Backoff, ratelimittest.Env) {
			prefix := testenv.RandomName("authdtest:") + ":"
			b, err := ratelimit.NewRedisBackoff(client, p, ratelimit.WithKeyPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			return b, ratelimittest.RealTime(redisSlack)
		})
	})
}

// TestCluster: both suites pass on a Redis Cluster (every script's keys in
// one slot), and 3,000 limited keys and 3,000 backed-off accounts spread
// over the three primaries.
func TestCluster(t *testing.T) {
	cl := testenv.RedisCluster(t)
	client := clientOf(t, cl.URL)
	t.Run("Suites", func(t *testing.T) { runSuites(t, client) })
	t.Run("Spread", func(t *testing.T) {
		cc := client.(*redis.ClusterClient)
		ctx := t.Context()
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() }); err != nil {
			t.Fatal(err)
		}
		const n = 3000
		l := ratelimit.NewRedis(client)
		b, err := ratelimit.NewRedisBackoff(client, ratelimit.BackoffPolicy{Free: 0, Base: time.Second, Max: time.Minute, Window: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for w := range 16 {
			wg.Go(func() {
				for i := w; i < n; i += 16 {
					key := fmt.Sprint("ip:192.0.2.", i)
					if _, err := l.Allow(ctx, key, ratelimit.PerMinute(10)); err != nil {
						errs <- err
					}
					if _, err := b.Failure(ctx, fmt.Sprint("user", i, "@example.com")); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var sizes []int64
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			size, err := m.DBSize(ctx).Result()
			mu.Lock()
			sizes = append(sizes, size)
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, s := range sizes {
			total += s
		}
		// One limiter key, a fails and a wait key per account (Free is 0).
		if len(sizes) != 3 || total != 3*n {
			t.Fatalf("DBSIZE per primary = %v, want 3 primaries holding %d keys", sizes, 3*n)
		}
		mean := float64(total) / 3
		for _, s := range sizes {
			if d := float64(s) - mean; d > 0.15*mean || d < -0.15*mean {
				t.Errorf("DBSIZE per primary = %v: %d is more than 15%% from the mean %.0f", sizes, s, mean)
			}
		}
		t.Logf("DBSIZE per primary: %v", sizes)
	})
}

// TestSentinel: both suites pass through Sentinel.
func TestSentinel(t *testing.T) {
	s := testenv.RedisSentinel(t)
	runSuites(t, clientOf(t, s.URL))
}
