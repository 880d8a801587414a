package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/testenv"
)

// TestDenylistRebuiltAfterRedisLoss: logouts answered 204, then Redis
// loses every denylist key (as a restart without persistence would; here
// the test's own prefix is deleted, never the shared server flushed).
// From then on /v1/verify with the logged-out tokens answers 401 or 503,
// never 200, and 401 again once authd has rebuilt the denylist from the
// store; a live token verifies again.
func TestDenylistRebuiltAfterRedisLoss(t *testing.T) {
	for _, b := range backends[1:3] { // postgres+redis, mariadb+redis
		t.Run(b.name, func(t *testing.T) {
			s := startOn(t, b, newClock(), func(cfg *config.Config) { cfg.DenylistSyncInterval = 200 * time.Millisecond })
			s.register("rita@example.com", "correct horse battery")
			out, keep := s.login("rita@example.com", "correct horse battery"), s.login("rita@example.com", "correct horse battery")
			if r := s.logout(out.AccessToken, ""); r.Status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			s.get("/v1/verify", out.AccessToken).wantError(t, 401, "invalid_token")

			client, _ := testenv.Redis(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			keys, err := client.Keys(ctx, s.Config.RedisKeyPrefix+"*").Result()
			if err != nil || len(keys) == 0 {
				t.Fatalf("denylist keys: %v, %v", keys, err)
			}
			if err := client.Del(ctx, keys...).Err(); err != nil {
				t.Fatal(err)
			}
			var saw503 bool
			deadline := time.Now().Add(10 * time.Second)
			for {
				r := s.get("/v1/verify", out.AccessToken)
				switch r.Status {
				case http.StatusOK:
					t.Fatalf("a logged-out token verified after the denylist was lost")
				case http.StatusServiceUnavailable:
					saw503 = true
				case http.StatusUnauthorized:
				default:
					t.Fatalf("verify: %d %s", r.Status, r.Body)
				}
				if n, _ := client.Exists(ctx, keys...).Result(); n > 0 && r.Status == http.StatusUnauthorized {
					break // rebuilt, and refused from Redis again
				}
				if time.Now().After(deadline) {
					t.Fatal("the denylist was not rebuilt within 10s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r := s.get("/v1/verify", keep.AccessToken); r.Status != http.StatusOK {
				t.Fatalf("a live token after the rebuild: %d %s", r.Status, r.Body)
			}
			t.Logf("a 503 seen while rebuilding: %v", saw503)
		})
	}
}
