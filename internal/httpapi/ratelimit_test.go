package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/gin-gonic/gin"
)

// fakeLimiter answers every Allow with res and err, and records the keys.
type fakeLimiter struct {
	res  ratelimit.Result
	err  error
	keys []string
}

func (f *fakeLimiter) Allow(_ context.Context, key string, _ ratelimit.Limit) (ratelimit.Result, error) {
	f.keys = append(f.keys, key)
	return f.res, f.err
}

func TestLimitIP(t *testing.T) {
	limit := ratelimit.PerMinute(10)
	tests := []struct {
		name       string
		limiter    *fakeLimiter // nil: no limiter configured
		remote     string
		wantStatus int
		wantKey    string
		wantRetry  string
	}{
		{"allowed", &fakeLimiter{res: ratelimit.Result{Allowed: true}}, "192.0.2.1:5000", 200, "ip:login:192.0.2.1", ""},
		{"denied", &fakeLimiter{res: ratelimit.Result{RetryAfter: 1500 * time.Millisecond}}, "192.0.2.1:5000", 429, "ip:login:192.0.2.1", "2"},
		{"denied, sub-second wait", &fakeLimiter{res: ratelimit.Result{RetryAfter: time.Millisecond}}, "192.0.2.1:5000", 429, "ip:login:192.0.2.1", "1"},
		{"limiter down: fail open", &fakeLimiter{err: ratelimit.ErrUnavailable}, "192.0.2.1:5000", 200, "ip:login:192.0.2.1", ""},
		{"ipv6 by /64", &fakeLimiter{res: ratelimit.Result{Allowed: true}}, "[2001:db8:1:2:3:4:5:6]:5000", 200, "ip:login:2001:db8:1:2::/64", ""},
		{"ipv4-mapped ipv6 as ipv4", &fakeLimiter{res: ratelimit.Result{Allowed: true}}, "[::ffff:192.0.2.9]:5000", 200, "ip:login:192.0.2.9", ""},
		{"no limiter", nil, "192.0.2.1:5000", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{RateLimits: RateLimits{PerIP: map[string]ratelimit.Limit{"login": limit}}}
			if tt.limiter != nil {
				cfg.RateLimits.Limiter = tt.limiter
			}
			a := &API{cfg: cfg, log: slog.New(slog.DiscardHandler)}
			gin.SetMode(gin.ReleaseMode)
			r := gin.New()
			a.trustProxies(r)
			reached := false
			r.POST("/v1/login", a.limitIP("login"), func(c *gin.Context) {
				reached = true
				c.Status(http.StatusOK)
			})
			req := httptest.NewRequest("POST", "/v1/login", strings.NewReader("not even JSON"))
			req.RemoteAddr = tt.remote
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus || reached != (tt.wantStatus == 200) {
				t.Fatalf("status %d, handler reached %v", rec.Code, reached)
			}
			if tt.limiter != nil && (len(tt.limiter.keys) != 1 || tt.limiter.keys[0] != tt.wantKey) {
				t.Fatalf("keys %v, want [%s]", tt.limiter.keys, tt.wantKey)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Fatalf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			if tt.wantStatus == 429 {
				if rec.Header().Get("Cache-Control") != "no-store" || !strings.Contains(rec.Body.String(), `"error":"rate_limited"`) ||
					!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
					t.Fatalf("429 answer: %v %s", rec.Header(), rec.Body)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{{0, "1"}, {-time.Second, "1"}, {time.Nanosecond, "1"}, {time.Second, "1"}, {time.Second + time.Millisecond, "2"}, {15 * time.Minute, "900"}} {
		if got := retryAfter(tt.in); got != tt.want {
			t.Errorf("retryAfter(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The service's rate and load refusals keep their Retry-After.
func TestWriteErrorRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		retry  string
	}{
		{"rate limited", rateLimitedErr(3 * time.Second), 429, "3"},
		{"busy gate", busyErr(2500 * time.Millisecond), 503, "3"},
		{"unavailable without a hint", busyErr(0), 503, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &API{log: slog.New(slog.DiscardHandler)}
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest("POST", "/", nil)
			a.writeError(c, tt.err)
			if rec.Code != tt.status || rec.Header().Get("Retry-After") != tt.retry {
				t.Fatalf("%d Retry-After %q; want %d %q", rec.Code, rec.Header().Get("Retry-After"), tt.status, tt.retry)
			}
		})
	}
}

func rateLimitedErr(d time.Duration) error {
	return &auth.Error{Kind: auth.ErrRateLimited, Description: "too many attempts", RetryAfter: d}
}

func busyErr(d time.Duration) error {
	return &auth.Error{Kind: auth.ErrUnavailable, Description: "busy", RetryAfter: d}
}
