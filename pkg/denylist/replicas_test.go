package denylist_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestMinReplicasAck: on the Sentinel topology (one replica), a write
// that asks for one acknowledgement succeeds and is on the replica; one
// that asks for two, or one after the replica died, fails with
// ErrNotReplicated (matching ErrUnavailable) within the timeout.
func TestMinReplicasAck(t *testing.T) {
	s := testenv.RedisSentinel(t)
	client := s.Client(t)
	ctx := t.Context()
	until := time.Now().Add(time.Minute)
	one := denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2), denylist.WithMinReplicasAck(1, 500*time.Millisecond))
	if err := one.RevokeSessions(ctx, "u1", []string{"s1", "s2"}, until); err != nil {
		t.Fatalf("RevokeSessions acknowledged by 1: %v", err)
	}
	replica := denylist.NewRedis(s.Replica.Client(t), denylist.WithLayout(denylist.LayoutV2))
	if err := replica.Check(ctx, denylist.Token{JTI: "j", SID: "s2", Subject: "u1", IssuedAt: time.Now()}); !errors.Is(err, denylist.ErrRevoked) {
		t.Fatalf("the replica does not hold the acknowledged write: %v", err)
	}
	for _, tc := range []struct {
		name string
		d    *denylist.Redis
		kill bool
	}{
		{"more than there are", denylist.NewRedis(client, denylist.WithMinReplicasAck(2, 200*time.Millisecond)), false},
		{"replica dead", one, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kill {
				s.Replica.Kill()
			}
			start := time.Now()
			err := tc.d.RevokeToken(ctx, "u1", "j-"+tc.name, until)
			if !errors.Is(err, denylist.ErrNotReplicated) || !errors.Is(err, denylist.ErrUnavailable) {
				t.Fatalf("RevokeToken = %v, want ErrNotReplicated", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v, want about the timeout", d)
			}
		})
	}
}

// TestGenerationMarkerPerPrimary: on Redis Cluster there is one marker
// per primary, so flushing one shard alone makes the marker incomplete.
func TestGenerationMarkerPerPrimary(t *testing.T) {
	c := testenv.RedisCluster(t)
	client := c.Client(t)
	ctx := t.Context()
	d := denylist.NewRedis(client, denylist.WithKeyPrefix(testenv.RandomName("authdtest:")+":"))
	if _, complete, err := d.Generation(ctx); err != nil || complete {
		t.Fatalf("Generation before any = complete %v, %v; want incomplete", complete, err)
	}
	for _, g := range []int64{7, 3} {
		if err := d.SetGeneration(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if gen, complete, err := d.Generation(ctx); err != nil || !complete || gen != 7 {
		t.Fatalf("Generation = %d, %v, %v; want 7 (never lowered), complete", gen, complete, err)
	}
	idBefore, err := d.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Flush one primary only (the test's own cluster).
	var flushed bool
	for _, n := range c.Nodes {
		nc := n.Client(t)
		if role, err := nc.Do(ctx, "ROLE").Slice(); err == nil && len(role) > 0 && role[0] == "master" {
			if err := nc.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			flushed = true
			break
		}
	}
	if !flushed {
		t.Fatal("no primary found")
	}
	if _, complete, err := d.Generation(ctx); err != nil || complete {
		t.Fatalf("Generation after one shard was flushed = complete %v, %v; want incomplete", complete, err)
	}
	if idAfter, err := d.Identity(ctx); err != nil || idAfter != idBefore {
		t.Fatalf("Identity changed without a restart: %q → %q (%v)", idBefore, idAfter, err)
	}
}

// TestMinReplicasAckCluster: on Redis Cluster (one replica per primary)
// the writes of one call are grouped by primary, each group followed by
// its own WAIT: subjects on every shard are acknowledged by 1, and 2 is
// refused with ErrNotReplicated.
func TestMinReplicasAckCluster(t *testing.T) {
	c := testenv.RedisCluster(t)
	client := c.Client(t)
	ctx := t.Context()
	prefix := testenv.RandomName("authdtest:") + ":"
	until := time.Now().Add(time.Minute)
	one := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV2), denylist.WithMinReplicasAck(1, 500*time.Millisecond))
	entries := make([]denylist.Entry, 0, 30)
	for i := range 30 { // 30 subjects: every shard gets some
		entries = append(entries, denylist.Entry{Kind: denylist.EventSession, Subject: "u" + string(rune('a'+i)), ID: "s", Until: until})
	}
	// The replicas may still be catching up with their primaries just
	// after the cluster formed: retry until each acknowledges.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := one.Restore(ctx, entries)
		if err == nil {
			break
		}
		if !errors.Is(err, denylist.ErrNotReplicated) || time.Now().After(deadline) {
			t.Fatalf("Restore acknowledged by 1 on every shard: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, e := range entries {
		if err := one.Check(ctx, denylist.Token{JTI: "j", SID: "s", Subject: e.Subject, IssuedAt: time.Now()}); !errors.Is(err, denylist.ErrRevoked) {
			t.Fatalf("Check(%s) = %v, want ErrRevoked", e.Subject, err)
		}
	}
	two := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithMinReplicasAck(2, 200*time.Millisecond))
	if err := two.Restore(ctx, entries); !errors.Is(err, denylist.ErrNotReplicated) {
		t.Fatalf("Restore asking 2 acknowledgements = %v, want ErrNotReplicated", err)
	}
}
