package denylist_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// recorder is a go-redis hook that records each round trip's commands.
type recorder struct {
	mu    sync.Mutex
	trips [][]string // per round trip, each command summarized
	// failNextPipeline answers the next pipeline's commands with NOSCRIPT
	// without sending it, as a Redis that lost its script cache would.
	failNextPipeline bool
}

func (r *recorder) record(cmds []redis.Cmder) {
	trip := make([]string, 0, len(cmds))
	for _, c := range cmds {
		switch name := c.Name(); name {
		case "hello", "client", "auth", "select":
			// The handshake of a connection the pool opened: not ours.
		default:
			trip = append(trip, summarize(c.Args()))
		}
	}
	if len(trip) == 0 {
		return
	}
	r.mu.Lock()
	r.trips = append(r.trips, trip)
	r.mu.Unlock()
}

// summarize keeps a command's name and keys: all of MGET's, the one of an
// EVAL or EVALSHA (after the script or its sha, and the key count).
func summarize(args []any) string {
	name := fmt.Sprint(args[0])
	switch {
	case (name == "evalsha" || name == "eval") && len(args) >= 4:
		return name + " " + fmt.Sprint(args[3])
	case name == "mget":
		return strings.Trim(fmt.Sprint(args), "[]")
	}
	return name
}

func (r *recorder) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trips
	r.trips = nil
	return t
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.record(cmds)
		r.mu.Lock()
		fail := r.failNextPipeline
		r.failNextPipeline = false
		r.mu.Unlock()
		if fail {
			for _, c := range cmds {
				c.SetErr(redis.ErrNoScript)
			}
			return redis.ErrNoScript
		}
		return next(ctx, cmds)
	}
}

// TestRedisRoundTrips counts round trips with a hook: a check is one MGET
// and each revocation one pipeline, however many sessions it names.
func TestRedisRoundTrips(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	ctx := t.Context()
	until := time.Now().Add(time.Minute)
	// Warm up: load the script, leave one idle connection in the pool.
	if err := dl.RevokeToken(ctx, "u", "warm-up", until); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	client.AddHook(rec)
	iat := time.Now()
	for _, tc := range []struct {
		name string
		call func() error
		want []string // the one round trip's commands, name and first key
	}{
		{"check", func() error { return dl.Check(ctx, denylist.Token{JTI: "j", SID: "s", Subject: "u", IssuedAt: iat}) },
			[]string{"mget " + prefix + "{u}:jti:j " + prefix + "{u}:sid:s " + prefix + "{u}:cut " + prefix + "jti:j " + prefix + "sid:s " + prefix + "sub:u"}},
		{"check without sid", func() error { return dl.Check(ctx, denylist.Token{JTI: "j", Subject: "u", IssuedAt: iat}) },
			[]string{"mget " + prefix + "{u}:jti:j " + prefix + "{u}:cut " + prefix + "jti:j " + prefix + "sub:u"}},
		{"revoke token", func() error { return dl.RevokeToken(ctx, "u", "j", until) },
			[]string{"evalsha " + prefix + "{u}:jti:j", "evalsha " + prefix + "jti:j"}},
		{"revoke sessions", func() error { return dl.RevokeSessions(ctx, "u", []string{"s1", "s2", "s3"}, until) },
			[]string{"evalsha " + prefix + "{u}:sid:s1", "evalsha " + prefix + "sid:s1", "evalsha " + prefix + "{u}:sid:s2",
				"evalsha " + prefix + "sid:s2", "evalsha " + prefix + "{u}:sid:s3", "evalsha " + prefix + "sid:s3"}},
		{"revoke user", func() error { return dl.RevokeUserBefore(ctx, "u", iat, until) },
			[]string{"evalsha " + prefix + "{u}:cut", "evalsha " + prefix + "sub:u"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			trips := rec.take()
			if len(trips) != 1 {
				t.Fatalf("%d round trips %q, want 1", len(trips), trips)
			}
			if len(trips[0]) != len(tc.want) {
				t.Fatalf("commands = %q, want %q", trips[0], tc.want)
			}
			for i, got := range trips[0] {
				if got != tc.want[i] {
					t.Errorf("command %d = %q, want %q", i, got, tc.want[i])
				}
			}
		})
	}
}

// TestRedisScriptReload: when Redis has lost the script, the writes it
// refused are sent again with EVAL in a second round trip, once each.
func TestRedisScriptReload(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV2))
	ctx := t.Context()
	if err := dl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{failNextPipeline: true}
	client.AddHook(rec)
	if err := dl.RevokeSessions(ctx, "u", []string{"s1", "s2"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSessions: %v", err)
	}
	trips := rec.take()
	want := [][]string{
		{"evalsha " + prefix + "{u}:sid:s1", "evalsha " + prefix + "{u}:sid:s2"},
		{"eval " + prefix + "{u}:sid:s1", "eval " + prefix + "{u}:sid:s2"},
	}
	if fmt.Sprint(trips) != fmt.Sprint(want) {
		t.Errorf("round trips = %q, want %q", trips, want)
	}
	for _, sid := range []string{"s1", "s2"} {
		if err := dl.Check(ctx, denylist.Token{JTI: "j", SID: sid, Subject: "u"}); err == nil {
			t.Errorf("session %s not revoked after the EVAL retry", sid)
		}
	}
}
