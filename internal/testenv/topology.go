package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a topology may take to come up.
const startTimeout = 30 * time.Second

// RedisNode is one redis-server (or sentinel) process that a test started
// on a spare loopback port; it is killed when the test ends.
type RedisNode struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	log  string

	mu     sync.Mutex
	killed bool
}

// Kill ends the process with SIGKILL, as a crash would; it is idempotent.
func (n *RedisNode) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed {
		return
	}
	n.killed = true
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
}

// Client returns a plain client to this one node, closed when the test ends.
func (n *RedisNode) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: n.Addr, DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// requireRedisServer skips (or fails, with AUTHD_TEST_REQUIRE_SERVICES=1)
// unless redis-server and redis-cli are on PATH.
func requireRedisServer(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if RequireServices() {
				t.Fatalf("%s is required (%s=1) to start a Redis topology but is not on PATH: %v", bin, EnvRequireServices, err)
			}
			t.Skipf("skipping: %s not on PATH (%v); install Redis 7 to run the Cluster and Sentinel tests", bin, err)
		}
	}
}

// spareAddr returns a loopback port nothing listens on now, never 6379.
func spareAddr(t testing.TB) int {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a spare port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port != 6379 {
			return port
		}
	}
}

// startNode starts redis-server with args on port and waits for it to
// answer PING.
func startNode(t testing.TB, dir string, port int, args ...string) *RedisNode {
	t.Helper()
	logPath := filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))
	cmd := exec.Command("redis-server", args...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	n := &RedisNode{Addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: logPath}
	t.Cleanup(n.Kill)
	c := redis.NewClient(&redis.Options{Addr: n.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	waitFor(t, n.Addr+" to answer PING", func(ctx context.Context) error { return c.Ping(ctx).Err() }, n)
	return n
}

// waitFor polls ready until it returns nil or startTimeout passes.
func waitFor(t testing.TB, what string, ready func(ctx context.Context) error, logs ...*RedisNode) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			for _, n := range logs {
				if b, rerr := os.ReadFile(n.log); rerr == nil {
					t.Logf("%s log:\n%s", n.Addr, tail(string(b), 2000))
				}
			}
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// RedisServer starts one redis-server of its own on a spare loopback port
// (never 6379), without persistence, killed when the test ends: for tests
// that need a server no other test touches, or two servers. It skips (or
// fails with AUTHD_TEST_REQUIRE_SERVICES=1) when redis-server is not
// installed.
func RedisServer(t testing.TB) *RedisNode {
	t.Helper()
	requireRedisServer(t)
	dir := t.TempDir()
	port := spareAddr(t)
	p := strconv.Itoa(port)
	return startNode(t, dir, port, "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis-"+p+".log"))
}

// Cluster is a Redis Cluster of three primaries, each with one replica,
// started by RedisCluster.
type Cluster struct {
	// Nodes are the six servers, in start order.
	Nodes []*RedisNode
	// URL is the cluster in AUTHD_REDIS_URL's redis+cluster:// form.
	URL string
}

// Addrs returns every node's host:port.
func (c *Cluster) Addrs() []string { return addrs(c.Nodes) }

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: time.Second})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// RedisCluster starts a Redis Cluster of 3 primaries and 3 replicas on
// spare loopback ports (never 6379), without persistence, and waits for
// cluster_state:ok on every node. Everything is killed when the test
// ends. It skips (or fails with AUTHD_TEST_REQUIRE_SERVICES=1) when
// redis-server is not installed. It takes a few seconds; share one among
// sub-tests.
func RedisCluster(t testing.TB) *Cluster {
	t.Helper()
	requireRedisServer(t)
	dir := t.TempDir()
	c := &Cluster{}
	for range 6 {
		port, bus := spareAddr(t), spareAddr(t)
		p := strconv.Itoa(port)
		c.Nodes = append(c.Nodes, startNode(t, dir, port,
			"--port", p, "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, "nodes-"+p+".conf"), "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis-"+p+".log")))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
		waitFor(t, n.Addr+" to report cluster_state:ok", func(ctx context.Context) error {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				return fmt.Errorf("not ready:\n%s", info)
			}
			if !strings.Contains(info, "cluster_known_nodes:6") {
				return fmt.Errorf("knows fewer than 6 nodes")
			}
			return nil
		}, n)
		cl.Close()
	}
	c.URL = "redis+cluster://" + strings.Join(c.Addrs(), ",")
	// Every node must also agree on who serves each slot before a client
	// that starts from any seed routes correctly at once.
	cc := c.Client(t)
	waitFor(t, "the cluster client to see 3 masters", func(ctx context.Context) error {
		cc.ReloadState(ctx)
		masters := 0
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			masters++
			mu.Unlock()
			return m.Ping(ctx).Err()
		})
		if err != nil {
			return err
		}
		if masters != 3 {
			return fmt.Errorf("%d masters", masters)
		}
		return nil
	})
	return c
}

// Sentinel is one primary, one replica and three Sentinels watching them,
// started by RedisSentinel.
type Sentinel struct {
	// Primary and Replica are the data nodes as started; after a failover
	// their roles are swapped (MasterAddr tells the current primary).
	Primary, Replica *RedisNode
	// Sentinels are the three sentinel processes.
	Sentinels []*RedisNode
	// MasterName is the name the sentinels monitor the primary under.
	MasterName string
	// URL is the deployment in AUTHD_REDIS_URL's redis+sentinel:// form.
	URL string
}

// SentinelAddrs returns the sentinels' host:port.
func (s *Sentinel) SentinelAddrs() []string { return addrs(s.Sentinels) }

// addrs returns the nodes' host:port, in order.
func addrs(nodes []*RedisNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Addr
	}
	return out
}

// Client returns a failover client, closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.SentinelAddrs(), DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// MasterAddr asks the first sentinel that answers for the current primary.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var last error
	for _, n := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
		addr, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		sc.Close()
		if err == nil && len(addr) == 2 {
			return net.JoinHostPort(addr[0], addr[1]), nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel knows the master: %w", last)
}

// Failover has the sentinels promote the replica (SENTINEL FAILOVER) and
// waits until the sentinels name it, it acts as primary and the old
// primary acts as its replica; it returns the new primary's address.
func (s *Sentinel) Failover(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	old, err := s.MasterAddr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0].Addr, MaxRetries: -1})
	defer sc.Close()
	if err := sc.Failover(ctx, s.MasterName).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	var now string
	waitFor(t, "the sentinels to promote the replica", func(ctx context.Context) error {
		addr, err := s.MasterAddr(ctx)
		if err != nil {
			return err
		}
		if addr == old {
			return fmt.Errorf("still %s", old)
		}
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s is %v", addr, role)
		}
		now = addr
		return nil
	})
	// The old primary takes writes until the sentinels turn it into a
	// replica (and then drops them): wait for that too, so that a caller
	// reaching it from now on is refused, not silently diverted.
	oc := redis.NewClient(&redis.Options{Addr: old, MaxRetries: -1})
	defer oc.Close()
	waitFor(t, "the old primary to become a replica", func(ctx context.Context) error {
		role, err := oc.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "slave" {
			return fmt.Errorf("%s is %v", old, role)
		}
		return nil
	})
	return now
}

// RedisSentinel starts one primary, one replica of it and three Sentinels
// (quorum 2) on spare loopback ports (never 6379), without persistence,
// and waits until every sentinel knows the replica and the other
// sentinels. Everything is killed when the test ends. It skips (or fails
// with AUTHD_TEST_REQUIRE_SERVICES=1) when redis-server is not installed.
func RedisSentinel(t testing.TB) *Sentinel {
	t.Helper()
	requireRedisServer(t)
	dir := t.TempDir()
	s := &Sentinel{MasterName: "authdtest"}
	data := func(port int, extra ...string) *RedisNode {
		p := strconv.Itoa(port)
		args := []string{"--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis-"+p+".log")}
		return startNode(t, dir, port, append(args, extra...)...)
	}
	pp := spareAddr(t)
	s.Primary = data(pp)
	s.Replica = data(spareAddr(t), "--replicaof", "127.0.0.1", strconv.Itoa(pp))
	rc := s.Replica.Client(t)
	waitFor(t, "the replica to sync", func(ctx context.Context) error {
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("link down")
		}
		return nil
	}, s.Replica)
	for range 3 {
		port := spareAddr(t)
		p := strconv.Itoa(port)
		conf := filepath.Join(dir, "sentinel-"+p+".conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[4]s 1000\n"+
			"sentinel failover-timeout %[4]s 5000\n"+
			"sentinel parallel-syncs %[4]s 1\n",
			port, dir, filepath.Join(dir, "redis-"+p+".log"), s.MasterName, pp)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s.Sentinels = append(s.Sentinels, startNode(t, dir, port, conf, "--sentinel"))
	}
	for _, n := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
		waitFor(t, n.Addr+" to know the replica and the other sentinels", func(ctx context.Context) error {
			reps, err := sc.Replicas(ctx, s.MasterName).Result()
			if err != nil {
				return err
			}
			if len(reps) != 1 {
				return fmt.Errorf("%d replicas known", len(reps))
			}
			sents, err := sc.Sentinels(ctx, s.MasterName).Result()
			if err != nil {
				return err
			}
			if len(sents) != 2 {
				return fmt.Errorf("%d other sentinels known", len(sents))
			}
			return nil
		}, n)
		sc.Close()
	}
	s.URL = "redis+sentinel://" + strings.Join(s.SentinelAddrs(), ",") + "/" + s.MasterName
	return s
}
