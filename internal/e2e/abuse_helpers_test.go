package e2e_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

// abuseConfig is testConfig on backend b with the rate limits on, and the
// loopback trusted as a proxy so that X-Forwarded-For chooses the client
// IP each request comes from.
func abuseConfig(t *testing.T, b backend) config.Config {
	t.Helper()
	cfg := testConfig()
	b.configure(t, &cfg)
	cfg.RateLimitEnabled = true
	cfg.TrustedProxies = "127.0.0.1/32"
	if cfg.RedisURL != "" {
		// Tests share one Redis: keep each test's limiter keys apart.
		cfg.RateLimitKeyPrefix = cfg.RedisKeyPrefix + "rl:"
	}
	return cfg
}

// postFrom posts a JSON body as if from client IP ip.
func (s *server) postFrom(ip, path string, body any) response {
	s.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", path, "application/json", string(b), map[string]string{"X-Forwarded-For": ip})
}

// attempt is a login from client IP ip.
func (s *server) attempt(ip, email, password string) response {
	s.t.Helper()
	return s.postFrom(ip, "/v1/login", map[string]string{"email": email, "password": password})
}

// bcrypts returns how many bcrypt computations the server's gate has
// admitted so far.
func (s *server) bcrypts() uint64 { return s.App.Gate().Stats().Admitted }

// wantRateLimited asserts a 429 rate_limited with a whole-second
// Retry-After of at least 1, and returns that delay.
func (r response) wantRateLimited(t testing.TB) time.Duration {
	t.Helper()
	r.wantError(t, http.StatusTooManyRequests, "rate_limited")
	return r.retryAfter(t)
}

// retryAfter parses the Retry-After header, which must be a whole number
// of seconds, at least 1.
func (r response) retryAfter(t testing.TB) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q: want whole seconds ≥ 1 (status %d)", r.Header.Get("Retry-After"), r.Status)
	}
	return time.Duration(n) * time.Second
}

// wait lets d pass for the limiter: the fake clock on the embedded
// backend, real time on Redis (whose clock the limiter reads).
func (s *server) wait(cfg config.Config, d time.Duration) {
	if cfg.RedisURL == "" {
		s.Clock.Advance(d)
		return
	}
	time.Sleep(d + 50*time.Millisecond)
}
