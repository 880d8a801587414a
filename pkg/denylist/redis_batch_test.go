package denylist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
)

// gatedMGET wraps a Redis denylist's MGET so that the test decides when the
// first one returns, and records the number of keys of each.
type gatedMGET struct {
	entered chan struct{} // receives one value as each MGET starts
	release chan struct{} // the first MGET waits for it to close
	fail    bool          // every MGET after the first fails

	mu    sync.Mutex
	calls []int
}

func gate(t *testing.T, r *Redis, broken *redis.Client) *gatedMGET {
	t.Helper()
	g := &gatedMGET{entered: make(chan struct{}, 1024), release: make(chan struct{})}
	real := r.checks.mget
	r.checks.mget = func(ctx context.Context, keys []string) ([]any, error) {
		g.mu.Lock()
		g.calls = append(g.calls, len(keys))
		first := len(g.calls) == 1
		g.mu.Unlock()
		g.entered <- struct{}{}
		if first {
			<-g.release
		}
		if !first && g.fail {
			return broken.MGet(ctx, keys...).Result()
		}
		return real(ctx, keys)
	}
	return g
}

func (g *gatedMGET) keysPerCall() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.calls...)
}

// queued waits until n checks wait in r's queue.
func queued(t *testing.T, r *Redis, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.checks.mu.Lock()
		got := len(r.checks.queue)
		r.checks.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checks queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// idle waits until r sends nothing and has nothing queued: the last
// sender may still be on its way out after every check returned.
func idle(t *testing.T, r *Redis) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.checks.mu.Lock()
		sending, queued := r.checks.sending, len(r.checks.queue)
		r.checks.mu.Unlock()
		if !sending && queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the last batch: sending %v, %d queued; want idle", sending, queued)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRedisCheckBatching: checks that arrive while one is on the wire go
// out together, at most maxCheckBatch to an MGET, and each gets the answer
// for its own token, against a real Redis holding revocations of every
// kind.
func TestRedisCheckBatching(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	now := time.Now()
	until := now.Add(time.Hour)
	// Layout v2 alone, so that a check is one key per field of the token.
	seed := NewRedis(client, WithKeyPrefix(prefix), WithLayout(LayoutV2))
	if err := errors.Join(
		seed.RevokeToken(ctx, "user-jti", "jti-revoked", until),
		seed.RevokeSessions(ctx, "user-sid", []string{"sid-revoked"}, until),
		seed.RevokeUserBefore(ctx, "user-cut", now, until),
	); err != nil {
		t.Fatal(err)
	}
	// tokenFor returns the i-th token of a batch and the answer it must
	// get: every fourth is fine, the others revoked one way each.
	tokenFor := func(i int) (Token, error) {
		id := fmt.Sprint(i)
		tok := Token{JTI: "jti-" + id, SID: "sid-" + id, Subject: "user-" + id, IssuedAt: now.Add(-time.Minute)}
		switch i % 4 {
		case 1:
			tok.JTI, tok.Subject = "jti-revoked", "user-jti"
			return tok, errTokenRevoked
		case 2:
			tok.SID, tok.Subject = "sid-revoked", "user-sid"
			return tok, errSessionRevoked
		case 3:
			tok.Subject = "user-cut"
			return tok, errUserRevoked
		}
		if i%8 == 0 {
			tok.SID = "" // a token without a session: two keys
		}
		return tok, nil
	}
	keysOf := func(from, to int) (n int) {
		for i := from; i < to; i++ {
			tok, _ := tokenFor(i)
			n += 3
			if tok.SID == "" {
				n--
			}
		}
		return n
	}

	for _, tc := range []struct {
		name    string
		waiting int
		batches int // MGETs after the first
	}{
		{"one batch", 50, 1},
		{"split at maxCheckBatch", maxCheckBatch + 44, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRedis(client, WithKeyPrefix(prefix), WithLayout(LayoutV2))
			g := gate(t, r, nil)
			errs := make([]error, 1+tc.waiting)
			var wg sync.WaitGroup
			check := func(i int) {
				tok, _ := tokenFor(i)
				errs[i] = r.Check(ctx, tok)
			}
			wg.Go(func() { check(0) })
			<-g.entered
			for i := 1; i <= tc.waiting; i++ {
				wg.Go(func() { check(i) })
			}
			queued(t, r, tc.waiting)
			close(g.release)
			wg.Wait()

			// The waiting checks queue in no set order, so which land in
			// a full batch varies; a full one holds maxCheckBatch checks of
			// two or three keys, and the keys add up.
			got := g.keysPerCall()
			if len(got) != 1+tc.batches || got[0] != 2 {
				t.Fatalf("keys per MGET = %v, want 2 (the first check alone) then %d batches", got, tc.batches)
			}
			total := 0
			for i, n := range got[1:] {
				total += n
				if full := i < tc.batches-1; full && (n < 2*maxCheckBatch || n > 3*maxCheckBatch) {
					t.Errorf("full batch %d has %d keys, want those of %d checks", i, n, maxCheckBatch)
				}
			}
			if want := keysOf(1, tc.waiting+1); total != want {
				t.Errorf("keys per MGET = %v, %d after the first, want %d", got, total, want)
			}
			for i, err := range errs {
				if _, want := tokenFor(i); !errors.Is(err, want) {
					t.Errorf("check %d = %v, want %v", i, err, want)
				}
			}
			idle(t, r)
		})
	}
}

// TestRedisCheckBatchFailure: when a batch's MGET fails, every check in it
// fails with ErrUnavailable and the cause; a check whose caller gives up
// returns at once without failing the others; and the next check, once
// Redis answers, leads a new batch.
func TestRedisCheckBatchFailure(t *testing.T) {
	client, prefix := testenv.Redis(t)
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	broken := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { broken.Close() })
	ctx := t.Context()
	r := NewRedis(client, WithKeyPrefix(prefix), WithLayout(LayoutV2))
	g := gate(t, r, broken)
	g.fail = true

	tok := Token{JTI: "j", SID: "s", Subject: "u", IssuedAt: time.Now()}
	var wg sync.WaitGroup
	var leader error
	wg.Go(func() { leader = r.Check(ctx, tok) })
	<-g.entered
	const waiting = 5
	errs := make([]error, waiting)
	for i := range errs {
		wg.Go(func() { errs[i] = r.Check(ctx, tok) })
	}
	gaveUp, cancel := context.WithCancel(ctx)
	gaveUpErr := make(chan error, 1)
	go func() { gaveUpErr <- r.Check(gaveUp, tok) }()
	queued(t, r, waiting+1)
	cancel()
	if err := <-gaveUpErr; !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled check = %v, want ErrUnavailable and context.Canceled", err)
	}
	close(g.release)
	wg.Wait()

	if leader != nil {
		t.Errorf("leading check (its MGET answered) = %v, want nil", leader)
	}
	for i, err := range errs {
		var opErr *net.OpError
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &opErr) {
			t.Errorf("check %d in the failed batch = %v, want ErrUnavailable with the *net.OpError", i, err)
		}
	}
	g.fail = false
	if err := r.Check(ctx, tok); err != nil {
		t.Errorf("check after the failure = %v, want nil", err)
	}
	if got, want := g.keysPerCall(), []int{3, 3 * (waiting + 1), 3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys per MGET = %v, want %v", got, want)
	}
}
