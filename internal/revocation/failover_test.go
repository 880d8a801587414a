package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/revocation"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestFailoverLosesNothing: on the Sentinel topology, 200 logouts (one
// session revocation each, as POST /v1/logout makes through this seam) are
// in flight when the primary is SIGKILLed and the sentinels promote the
// replica. It counts the logouts that failed (the 503s), those that
// succeeded (204) but are not in force once the recorder has synced with
// the new primary, and the revoked sessions a check still accepts after
// that sync: the last two must be 0.
func TestFailoverLosesNothing(t *testing.T) {
	s := testenv.RedisSentinel(t)
	client := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.SentinelAddrs(),
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { client.Close() })
	st := openStore(t)
	rd := denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2))
	rec := revocation.New(revocation.Config{Store: st, Denylist: rd, Marker: rd, Restorer: rd})
	ctx := t.Context()
	syncOK(t, rec)

	const logouts = 200
	until := time.Now().Add(time.Hour)
	ok := make([]atomic.Bool, logouts)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range logouts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(time.Duration(i) * time.Millisecond) // spread over 200ms, across the kill
			lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			err := rec.RevokeSessions(lctx, fmt.Sprintf("u%d", i), []string{fmt.Sprintf("s%d", i)}, until)
			if err != nil {
				failed.Add(1)
				return
			}
			ok[i].Store(true)
		}()
	}
	close(start)
	time.Sleep(60 * time.Millisecond)
	s.Primary.Kill()
	wg.Wait()
	t0 := time.Now()
	var why revocation.Reason
	var stats revocation.RebuildStats
	for time.Since(t0) < 30*time.Second {
		w, st, err := rec.Sync(ctx)
		if err == nil && rec.Synced() {
			why, stats = w, st
			if w != "" {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !rec.Synced() {
		t.Fatal("the recorder never synced with the promoted replica")
	}
	var notInForce, accepted int
	for i := range logouts {
		tok := denylist.Token{JTI: "j", SID: fmt.Sprintf("s%d", i), Subject: fmt.Sprintf("u%d", i), IssuedAt: time.Now()}
		err := rec.Check(ctx, tok)
		if errors.Is(err, denylist.ErrRevoked) {
			continue
		}
		if err != nil {
			t.Fatalf("Check after the failover: %v", err)
		}
		if ok[i].Load() {
			notInForce++
		}
		if recorded, _ := st.LiveRevocations(ctx, 0, time.Now(), 1000); len(recorded) > 0 {
			for _, r := range recorded {
				if r.Subject == tok.Subject {
					accepted++
				}
			}
		}
	}
	t.Logf("failover: %d logouts, %d failed (503), %d answered 204 but not in force, %d revoked sessions accepted after the rebuild (%q, %d entries in %v, failover to rebuilt in %v)",
		logouts, failed.Load(), notInForce, accepted, why, stats.Entries, stats.Took, time.Since(t0))
	if why != revocation.ReasonIdentity && why != revocation.ReasonMissing && why != revocation.ReasonFailed {
		t.Errorf("the sync after the failover did not rebuild (reason %q)", why)
	}
	if notInForce != 0 || accepted != 0 {
		t.Fatalf("%d logouts answered 204 but not in force, %d recorded revocations accepted; want 0 and 0", notInForce, accepted)
	}
}
