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
	// Login is POST /v1/login; Register POST /v1/register; Token POST
	// /v1/token; Forgot POST /v1/password/forgot; EmailVerify POST
	// /v1/email/verify and its /resend (counted under "ip:verify:", the
	// key deployed limiters already hold); Reset POST /v1/password/reset;
	// Change POST /v1/password/change (before the token is verified).
	Login, Register, Token, Forgot, EmailVerify, Reset, Change ratelimit.Limit
}

// emailVerifyLimitName is what the email-verification limit is counted
// under ("ip:verify:…"): the name deployed limiters already hold, kept
// although "verify" elsewhere means the gateway endpoint.
const emailVerifyLimitName = "verify"

// rateLimitedBody is the 429 body, encoded once: the refusal path is the
// one a flood takes, so it should cost nothing but the limiter call.
var rateLimitedBody = func() []byte {
	b, _ := json.Marshal(errorBody{Error: "rate_limited", Description: "too many requests from this address; retry after the delay in Retry-After"})
	return b
}()

// limitIP returns middleware answering 429 rate_limited, with Retry-After,
// once the client IP has spent its budget (limit) on the endpoint named
// name. It runs before the body is read, so a refused request costs one
// limiter call: no decoding, no bcrypt, no store. The IP is counted
// under ratelimit.IPKey; c.ClientIP() already honours
// AUTHD_TRUSTED_PROXIES.
func (a *API) limitIP(name string, limit ratelimit.Limit) gin.HandlerFunc {
	limiter := a.cfg.RateLimits.Limiter
	if limiter == nil {
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
