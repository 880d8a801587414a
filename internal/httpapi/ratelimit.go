package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/gin-gonic/gin"
)

// RateLimits are the per-client-IP limits of the endpoints that cost a
// bcrypt, a store write or a mail. Each endpoint has a budget of its own.
// The zero value (no Limiter) limits nothing.
type RateLimits struct {
	// Limiter counts requests; nil turns every limit off. It should not
	// fail: authd's turns a backend outage into "allowed" and logs it
	// (fail open). Should it fail anyway, the request is served.
	Limiter ratelimit.Limiter
	// PerIP is each rate-limited endpoint's limit by the name its route
	// passes to limitIP (config.RateLimits.PerIP, from the config's table
	// of limits): "login" is POST /v1/login; "register" POST
	// /v1/register; "token" POST /v1/token; "forgot" POST
	// /v1/password/forgot; "verify" POST /v1/email/verify and its /resend
	// (one budget, under the key deployed limiters already hold); "reset"
	// POST /v1/password/reset; "change" POST /v1/password/change (before
	// the token is verified). A name with no limit here is not limited.
	PerIP map[string]ratelimit.Limit
}

// rateLimitedBody is the 429 body, encoded once: the refusal path is the
// one a flood takes, so it should cost nothing but the limiter call.
var rateLimitedBody = func() []byte {
	b, _ := json.Marshal(errorBody{Error: "rate_limited", Description: "too many requests from this address; retry after the delay in Retry-After"})
	return b
}()

// limitIP returns middleware answering 429 rate_limited, with Retry-After,
// once the client IP has spent its budget (RateLimits.PerIP[name]) on the
// endpoint named name. It runs before the body is read, so a refused
// request costs one limiter call: no decoding, no bcrypt, no store.
func (a *API) limitIP(name string) gin.HandlerFunc {
	limiter := a.cfg.RateLimits.Limiter
	limit, ok := a.cfg.RateLimits.PerIP[name]
	if limiter == nil || !ok {
		return func(*gin.Context) {}
	}
	prefix := "ip:" + name + ":"
	return func(c *gin.Context) {
		res, err := limiter.Allow(c.Request.Context(), prefix+ratelimit.IPKey(c.ClientIP()), limit)
		if err != nil || res.Allowed {
			return // err: fail open, see RateLimits.Limiter
		}
		h := c.Writer.Header()
		h.Set("Retry-After", retryAfter(res.RetryAfter))
		h.Set("Cache-Control", "no-store")
		c.Data(http.StatusTooManyRequests, "application/json; charset=utf-8", rateLimitedBody)
		c.Abort()
	}
}
