// Package ginmw adapts pkg/middleware to gin: Authenticate verifies the
// bearer token, the Require guards check roles and scopes, ClaimsFrom reads
// the claims. It is a separate package so that services using net/http or
// chi do not link gin. Responses are those of middleware.ResponseFor.
package ginmw

import (
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/gin-gonic/gin"
)

// claimsKey is the gin context key; unexported so only ClaimsFrom reads it.
const claimsKey = "github.com/authd/authd/pkg/middleware/ginmw.claims"

// Authenticate returns gin middleware that verifies the bearer token and
// stores its claims (see ClaimsFrom; middleware.ClaimsFrom on the request
// context works too), or aborts with an RFC 6750 error. The error, with
// its cause, is added to c.Errors for the access log; the client sees
// only a fixed description.
func Authenticate(v *middleware.Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := v.Authenticate(c.Request)
		if err != nil {
			abort(c, err)
			return
		}
		c.Set(claimsKey, claims)
		c.Request = c.Request.WithContext(middleware.WithClaims(c.Request.Context(), claims))
		c.Next()
	}
}

// ClaimsFrom returns the claims stored by Authenticate.
func ClaimsFrom(c *gin.Context) (*middleware.Claims, bool) {
	if v, ok := c.Get(claimsKey); ok {
		claims, ok := v.(*middleware.Claims)
		return claims, ok && claims != nil
	}
	if c.Request == nil {
		return nil, false
	}
	return middleware.ClaimsFrom(c.Request.Context())
}

// Require returns a gin handler that lets the request on only when the
// claims stored by Authenticate (which must run first) meet every one of
// reqs; otherwise it aborts with 401 (no claims) or 403
// insufficient_scope. See middleware.Require.
func Require(reqs ...middleware.Requirement) gin.HandlerFunc {
	reqs = append([]middleware.Requirement(nil), reqs...)
	return func(c *gin.Context) {
		claims, _ := ClaimsFrom(c)
		if err := middleware.Authorize(claims, reqs...); err != nil {
			abort(c, err)
			return
		}
		c.Next()
	}
}

// RequireRoles is Require(middleware.AllRoles(roles...)).
func RequireRoles(roles ...string) gin.HandlerFunc {
	return Require(middleware.AllRoles(roles...))
}

// RequireAnyRole is Require(middleware.AnyRole(roles...)).
func RequireAnyRole(roles ...string) gin.HandlerFunc {
	return Require(middleware.AnyRole(roles...))
}

// RequireScopes is Require(middleware.AllScopes(scopes...)).
func RequireScopes(scopes ...string) gin.HandlerFunc {
	return Require(middleware.AllScopes(scopes...))
}

// RequireAnyScope is Require(middleware.AnyScope(scopes...)).
func RequireAnyScope(scopes ...string) gin.HandlerFunc {
	return Require(middleware.AnyScope(scopes...))
}

// RequireAMR is Require(middleware.AuthMethods(methods...)).
func RequireAMR(methods ...string) gin.HandlerFunc {
	return Require(middleware.AuthMethods(methods...))
}

// RequireFreshAuth is Require(middleware.FreshAuth(maxAge)).
func RequireFreshAuth(maxAge time.Duration) gin.HandlerFunc {
	return Require(middleware.FreshAuth(maxAge))
}

// abort answers err and stops the chain.
func abort(c *gin.Context, err error) {
	_ = c.Error(err) // kept for the access log, never shown to the client
	middleware.WriteError(c.Writer, err)
	c.Abort()
}
