package app

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestOpenDenylistTopologies: AUTHD_REDIS_URL in the cluster and sentinel
// forms gives one client of the right kind, on which the denylist (with
// and without the mirror) and the rate limiter work.
func TestOpenDenylistTopologies(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	sentinel := testenv.RedisSentinel(t)
	for _, tc := range []struct {
		name   string
		url    string
		client func(redis.UniversalClient) bool
	}{
		{"cluster", cluster.URL, func(c redis.UniversalClient) bool { _, ok := c.(*redis.ClusterClient); return ok }},
		{"sentinel", sentinel.URL, func(c redis.UniversalClient) bool { _, ok := c.(*redis.Client); return ok }},
	} {
		for _, mirror := range []bool{false, true} {
			for _, layout := range []string{"v1+v2", "v2"} {
				t.Run(tc.name+"/"+layout+map[bool]string{true: "/mirror"}[mirror], func(t *testing.T) {
					cfg := config.Default()
					cfg.RedisURL, cfg.RevocationMirror, cfg.DenylistLayout = tc.url, mirror, layout
					cfg.RedisKeyPrefix = testenv.RandomName("authdtest:") + ":"
					ctx, log := t.Context(), slog.New(slog.DiscardHandler)
					b, err := openDenylist(ctx, cfg, log, time.Now, cfg.RevocationMirror)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { b.close() })
					b.waitReady(ctx, log)
					if !tc.client(b.redis) {
						t.Fatalf("client is %T", b.redis)
					}
					if err := b.dl.Ping(ctx); err != nil {
						t.Fatalf("Ping: %v", err)
					}
					tok := denylist.Token{JTI: "j1", SID: "s1", Subject: "u1", IssuedAt: time.Now()}
					if err := b.dl.Check(ctx, tok); err != nil {
						t.Fatalf("Check before = %v", err)
					}
					if err := b.dl.RevokeToken(ctx, "u1", "j1", time.Now().Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
					if err := b.dl.Check(ctx, tok); !errors.Is(err, denylist.ErrRevoked) {
						t.Fatalf("Check after = %v, want ErrRevoked", err)
					}
					l := ratelimit.NewRedis(b.redis, ratelimit.WithKeyPrefix(cfg.RedisKeyPrefix))
					if _, err := l.Allow(ctx, "ip:192.0.2.1", ratelimit.PerMinute(5)); err != nil {
						t.Fatalf("Allow: %v", err)
					}
				})
			}
		}
	}
}

// TestOpenDenylistBadURL: a malformed URL fails start-up naming the
// variable, and never repeats the password.
func TestOpenDenylistBadURL(t *testing.T) {
	cfg := config.Default()
	cfg.RedisURL = "redis+cluster://u:s3cret@host-without-port"
	_, err := openDenylist(t.Context(), cfg, slog.New(slog.DiscardHandler), time.Now, false)
	if err == nil || !strings.HasPrefix(err.Error(), "AUTHD_REDIS_URL: ") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("openDenylist = %v, want an AUTHD_REDIS_URL error without the password", err)
	}
}
