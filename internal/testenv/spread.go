package testenv

import (
	"context"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/pkg/redisurl"
)

// ClientOf builds the client of an AUTHD_REDIS_URL through pkg/redisurl,
// as authd and the examples do, closed at the end of the test.
func ClientOf(t testing.TB, url string, opts redisurl.ClientOptions) redis.UniversalClient {
	t.Helper()
	cfg, err := redisurl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// FlushPrimaries empties every primary of a cluster, for a test that owns
// the cluster and must count the keys it writes.
func FlushPrimaries(t testing.TB, client *redis.ClusterClient) {
	t.Helper()
	ctx := t.Context()
	if err := client.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
}

// CheckSpread fails the test unless the cluster's three primaries hold
// want keys between them, each within 15% of the mean, as hashing keys
// over the slots should spread them.
func CheckSpread(t testing.TB, client *redis.ClusterClient, want int64) {
	t.Helper()
	var mu sync.Mutex
	var sizes []int64
	err := client.ForEachMaster(t.Context(), func(ctx context.Context, m *redis.Client) error {
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
	if len(sizes) != 3 || total != want {
		t.Fatalf("DBSIZE per primary = %v (total %d), want 3 primaries holding %d keys", sizes, total, want)
	}
	mean := float64(total) / 3
	for _, s := range sizes {
		if d := float64(s) - mean; d > 0.15*mean || d < -0.15*mean {
			t.Errorf("DBSIZE per primary = %v: %d is more than 15%% from the mean %.0f", sizes, s, mean)
		}
	}
	t.Logf("DBSIZE per primary after writing %d keys: %v", want, sizes)
}
