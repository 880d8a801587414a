package app

import (
	"net/http"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
)

// openHTTP builds the HTTP layer on the service: the verifier of
// /v1/verify and the API's own bearer checks (on the key ring and dl), and
// the API with its rate limits, readiness checks and metrics.
func (a *App) openHTTP(dl denylist.Denylist, rateLimits httpapi.RateLimits) (http.Handler, error) {
	cfg := a.cfg
	verifier, err := middleware.NewVerifier(
		middleware.WithIssuer(cfg.Issuer),
		middleware.WithAudience(cfg.EffectiveAudience()),
		middleware.WithLeeway(cfg.Leeway),
		// authd's own tokens never live longer: one minted with a stolen
		// key and a far exp is refused.
		middleware.WithMaxTokenLifetime(cfg.AccessTTL),
		middleware.WithVerifiedCache(cfg.VerifiedCacheSize),
		middleware.WithKeySet(a.keys),
		middleware.WithRevocation(dl, middleware.FailClosed),
		middleware.WithLogger(a.log),
		middleware.WithClock(a.set.clock),
	)
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Config{
		Observer:        a.metrics,
		OnJWKS:          a.metrics.JWKSServed,
		OnInternalError: func() { a.metrics.DependencyError("store") },
		// Store outages are 503s, not 500s; they count the same.
		OnStoreUnavailable: func() { a.metrics.DependencyError("store") },
		Issuer:             cfg.Issuer,
		AdminRole:          cfg.AdminRole,
		AdminRequireMFA:    cfg.AdminRequireMFA,
		JWKSMaxAge:         cfg.JWKSMaxAge,
		AccessTTL:          cfg.AccessTTL,
		Logger:             a.log,

		IntrospectionClientID:     cfg.IntrospectionClientID,
		IntrospectionClientSecret: cfg.IntrospectionClientSecret,
		TrustedProxies:            cfg.TrustedProxyList(),
		RateLimits:                rateLimits,
		TLS:                       a.tls != nil,
	}, a.service, verifier, a.keys, []httpapi.Check{
		{Name: "store", Ping: countedCheck(a.metrics, "store", a.store.Ping)},
		{Name: "denylist", Ping: dl.Ping}, // failures counted by countedDenylist
	}), nil
}
