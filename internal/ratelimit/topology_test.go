package ratelimit_test

import (
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
	client := testenv.ClientOf(t, cl.URL, redisurl.ClientOptions{})
	t.Run("Suites", func(t *testing.T) { runSuites(t, client) })
	t.Run("Spread", func(t *testing.T) {
		cc := client.(*redis.ClusterClient)
		ctx := t.Context()
		testenv.FlushPrimaries(t, cc)
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
		// One limiter key, a fails and a wait key per account (Free is 0).
		testenv.CheckSpread(t, cc, 3*n)
	})
}

// TestSentinel: both suites pass through Sentinel.
func TestSentinel(t *testing.T) {
	s := testenv.RedisSentinel(t)
	runSuites(t, testenv.ClientOf(t, s.URL, redisurl.ClientOptions{}))
}
