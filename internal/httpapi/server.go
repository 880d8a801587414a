// Package httpapi is authd's HTTP API on gin. Handlers only decode a
// request, call the service, and encode the result; every error leaves as
// {"error","error_description"} with a stable code and a safe description.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authd/authd/docs"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

// KeyPublisher serves the JWK Set.
type KeyPublisher interface {
	JWKS() []byte
}

// Check is one readiness probe: a named dependency and how to ping it.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config configures the API.
type Config struct {
	// Observer, when set, receives every request's route, status and
	// latency (Prometheus metrics).
	Observer RequestObserver
	// OnJWKS, when set, is called for every JWKS response.
	OnJWKS func()
	// OnInternalError, when set, is called for every request that failed
	// with an unexpected error (a 500): the service passes store failures
	// through unchanged, so these are store failures or bugs.
	OnInternalError func()
	// OnStoreUnavailable, when set, is called for every request that
	// failed because the store was out of reach (store.ErrUnavailable,
	// answered 503).
	OnStoreUnavailable func()

	Issuer string
	// AdminRole is the role the admin API (/v1/admin/…) requires.
	AdminRole string
	// AdminRequireMFA makes the admin API require "otp" in the token's
	// amr (AUTHD_ADMIN_REQUIRE_MFA).
	AdminRequireMFA bool
	JWKSMaxAge      time.Duration
	// AccessTTL is published in discovery (authd_access_token_lifetime)
	// so that verifiers bound the lifetime of the tokens they accept.
	AccessTTL time.Duration
	// ReadyTimeout bounds each readiness check.
	ReadyTimeout time.Duration
	// IntrospectionClientID and IntrospectionClientSecret are the HTTP
	// Basic credentials callers of /v1/introspect must present; empty
	// disables introspection (every caller gets 401).
	IntrospectionClientID     string
	IntrospectionClientSecret string
	// TrustedProxies lists the IPs and CIDRs of the reverse proxies whose
	// X-Forwarded-For / X-Real-IP give the client IP; empty trusts none.
	TrustedProxies []string
	Logger         *slog.Logger
	// RateLimits are the per-client-IP limits; the zero value is none.
	RateLimits RateLimits
	// TLS says authd itself serves HTTPS, so responses carry HSTS.
	TLS bool
}

// API holds the handlers' dependencies.
type API struct {
	cfg      Config
	svc      Service
	verifier *middleware.Verifier
	keys     KeyPublisher
	checks   []Check
	log      *slog.Logger

	introspection clientSecret
}

// New builds the gin engine serving authd's API.
func New(cfg Config, svc Service, verifier *middleware.Verifier, keys KeyPublisher, checks []Check) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	a := &API{cfg: cfg, svc: svc, verifier: verifier, keys: keys, checks: checks, log: cfg.Logger,
		introspection: newClientSecret(cfg.IntrospectionClientID, cfg.IntrospectionClientSecret)}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	a.trustProxies(r)
	r.Use(requestID, a.accessLog, a.recover, securityHeaders)
	if cfg.TLS {
		r.Use(hsts)
	}
	r.NoRoute(func(c *gin.Context) { writeCode(c, http.StatusNotFound, "not_found", "no such endpoint") })
	r.NoMethod(func(c *gin.Context) {
		writeCode(c, http.StatusMethodNotAllowed, "method_not_allowed", "this method is not allowed on this endpoint")
	})

	authn := ginmw.Authenticate(verifier)
	v1 := r.Group("/v1")
	v1.POST("/register", a.limitIP("register"), a.register)
	v1.POST("/login", a.limitIP("login"), a.login)
	v1.POST("/token", a.limitIP("token"), a.token)
	v1.POST("/logout", authn, usersOnly, a.logout)
	v1.GET("/me", authn, usersOnly, a.me)
	v1.Any("/verify", a.forwardAuth)
	v1.Any("/verify/*path", a.forwardAuth)
	v1.POST("/introspect", a.introspect)
	v1.POST("/email/verify", a.limitIP("verify"), a.verifyEmail)
	v1.POST("/email/verify/resend", a.limitIP("verify"), authn, usersOnly, a.resendVerification)
	v1.POST("/password/forgot", a.limitIP("forgot"), a.forgotPassword)
	v1.POST("/password/reset", a.limitIP("reset"), a.resetPassword)
	v1.POST("/password/change", a.limitIP("change"), authn, usersOnly, a.changePassword)
	v1.GET("/sessions", authn, usersOnly, a.sessions)
	v1.DELETE("/sessions/:id", authn, usersOnly, a.revokeSession)
	a.mfaRoutes(v1, authn)

	// The admin API: a Bearer token holding the admin role; another
	// token is 403 insufficient_scope, none 401.
	admin := v1.Group("/admin", authn, ginmw.RequireRoles(cfg.AdminRole))
	if cfg.AdminRequireMFA {
		// RFC 9470: an admin whose token lacks otp in amr is asked to
		// step up (401 insufficient_user_authentication).
		admin.Use(ginmw.RequireAMR("otp"))
	}
	a.adminRoutes(admin)
	a.adminClientRoutes(admin)

	r.GET("/.well-known/jwks.json", a.jwks)
	r.GET("/.well-known/openid-configuration", a.discovery)
	r.GET("/.well-known/oauth-authorization-server", a.discovery)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.ready)
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", docs.OpenAPI) })
	return r
}

// securityHeaders are sent on every response.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// accessLog logs one line per request (successful gateway checks at debug
// level, see isGatewayCheck): never headers, bodies or tokens. The route
// is the registered pattern ("unmatched" for none) and the method a known
// one or "other" (methodName), never the raw path or method, so both are
// bounded for the log and the request metrics alike.
func (a *API) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	latency := time.Since(start)
	status := c.Writer.Status()
	method := methodName(c.Request.Method)
	if a.cfg.Observer != nil {
		a.cfg.Observer.ObserveRequest(route, method, status, latency)
	}
	level := slog.LevelInfo
	if status < http.StatusBadRequest && isGatewayCheck(route) {
		level = slog.LevelDebug
	}
	ctx := c.Request.Context()
	if !a.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", c.GetString(requestIDKey)),
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("latency", latency),
		slog.String("remote_ip", c.ClientIP()),
	}
	if claims, ok := ginmw.ClaimsFrom(c); ok {
		attrs = append(attrs, slog.String("user_id", claims.Subject))
	}
	if len(c.Errors) > 0 {
		attrs = append(attrs, slog.String("error", c.Errors.Last().Error()))
	}
	a.log.LogAttrs(ctx, level, "request", attrs...)
}

// methodName is the request method as logged and labelled: one of the
// methods of RFC 9110 §9 and RFC 5789, or "other". A client chooses the
// method freely (any token of any length), so a raw one would grow a
// metric series, and a log line, per distinct value.
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}

// isGatewayCheck reports the routes that answer a gateway's question about
// every request it forwards. Their successes are logged at debug level: the
// gateway logs the request itself, and the line cost about a quarter of
// authd's CPU per /v1/verify (profiled: slog JSON plus its write).
// Refusals and errors stay at info, and the request metrics count every
// answer.
func isGatewayCheck(route string) bool {
	switch route {
	case "/v1/verify", "/v1/verify/*path", "/v1/introspect":
		return true
	}
	return false
}

// recover turns a panic into a logged 500 with a generic body.
func (a *API) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			a.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic serving request",
				slog.String("route", c.FullPath()), slog.Any("panic", p))
			if !c.Writer.Written() {
				writeCode(c, http.StatusInternalServerError, "server_error", "internal error")
			}
			c.Abort()
		}
	}()
	c.Next()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
