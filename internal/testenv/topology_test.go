package testenv_test

import (
	"strings"
	"testing"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/redisurl"
	"github.com/redis/go-redis/v9"
)

// TestRedisCluster: the cluster has three primaries with one replica each,
// and its URL reaches it through pkg/redisurl.
func TestRedisCluster(t *testing.T) {
	c := testenv.RedisCluster(t)
	ctx := t.Context()
	primaries, replicas := 0, 0
	for _, n := range c.Nodes {
		role, err := n.Client(t).Do(ctx, "ROLE").Slice()
		if err != nil {
			t.Fatal(err)
		}
		switch role[0] {
		case "master":
			primaries++
		case "slave":
			replicas++
		}
		if strings.HasSuffix(n.Addr, ":6379") {
			t.Errorf("node on the shared Redis port: %s", n.Addr)
		}
	}
	if primaries != 3 || replicas != 3 {
		t.Errorf("%d primaries and %d replicas, want 3 and 3", primaries, replicas)
	}
	cfg, err := redisurl.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := cfg.NewClient(redisurl.ClientOptions{})
	defer client.Close()
	if _, ok := client.(*redis.ClusterClient); !ok {
		t.Fatalf("client is %T, want *redis.ClusterClient", client)
	}
	for _, k := range []string{"a", "b", "c", "d"} { // several slots
		if err := client.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
}

// TestRedisSentinel: the sentinels name the primary and the URL reaches
// it.
func TestRedisSentinel(t *testing.T) {
	s := testenv.RedisSentinel(t)
	ctx := t.Context()
	if addr, err := s.MasterAddr(ctx); err != nil || addr != s.Primary.Addr {
		t.Fatalf("MasterAddr = %q, %v; want %s", addr, err, s.Primary.Addr)
	}
	cfg, err := redisurl.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := cfg.NewClient(redisurl.ClientOptions{})
	defer client.Close()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Failover is exercised by pkg/denylist's TestSentinel/Failover.
}
