package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// A login handler checks the per-IP limit and the account's backoff
// before any bcrypt, failing open when the backend is down.
func Example() {
	ctx := context.Background()
	limiter := ratelimit.NewMemory()
	backoff, _ := ratelimit.NewMemoryBackoff(ratelimit.DefaultBackoffPolicy())
	perIP := ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 3}

	login := func(ip, email string, passwordOK bool) string {
		res, err := limiter.Allow(ctx, "login:ip:"+ip, perIP)
		switch {
		case errors.Is(err, ratelimit.ErrUnavailable):
			slog.Warn("rate limit unavailable, failing open", "error", err)
		case err != nil:
			return "500"
		case !res.Allowed:
			return fmt.Sprintf("429 Retry-After: %d", seconds(res.RetryAfter))
		}
		if d, err := backoff.Delay(ctx, email); err == nil && d > 0 {
			return fmt.Sprintf("429 Retry-After: %d", seconds(d))
		}
		// ... bcrypt compare, behind the admission gate ...
		if !passwordOK {
			backoff.Failure(ctx, email)
			return "401"
		}
		backoff.Success(ctx, email)
		return "200"
	}

	fmt.Println(login("192.0.2.1", "alice@example.com", false))
	fmt.Println(login("192.0.2.1", "alice@example.com", true))
	fmt.Println(login("192.0.2.1", "alice@example.com", true))
	fmt.Println(login("192.0.2.1", "alice@example.com", true))
	// Output:
	// 401
	// 200
	// 200
	// 429 Retry-After: 6
}

// seconds rounds d up to whole seconds, as Retry-After wants.
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
