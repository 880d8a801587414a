// Package app wires authd together from a config.Config: store, denylist,
// signing keys, service and HTTP API. cmd/authd and the end-to-end tests
// both build the server through it, so the tests run what ships.
package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/metrics"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/redisurl"
	"github.com/authd/authd/pkg/store"
	// The store backends this binary links; each registers its URL
	// schemes with store.Register.
	_ "github.com/authd/authd/pkg/store/mongostore" // mongodb:, mongodb+srv:
	_ "github.com/authd/authd/pkg/store/sqlstore"
	"github.com/redis/go-redis/v9"
)

// App is a configured authd instance.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	Store    store.Store
	Denylist denylist.Denylist
	Keys     *keys.Manager
	Service  *auth.Service
	handler  http.Handler
	redis    redis.UniversalClient
	// mirror answers revocation checks with AUTHD_REVOCATION_MIRROR.
	mirror *denylist.Mirror
	// layout is the denylist's Redis key layout (AUTHD_DENYLIST_LAYOUT).
	layout denylist.Layout
	clock  func() time.Time
	// Mail sends the service's mail; Stats counts what failed.
	Mail     *mail.Queue
	mailOpts []mail.QueueOption
	// Metrics holds the Prometheus metrics served on AUTHD_METRICS_ADDR.
	Metrics *metrics.Metrics
	// Gate admits every bcrypt computation (AUTHD_BCRYPT_MAX_*); its Stats
	// count admissions and refusals.
	Gate *admission.Gate
	// bcryptPool runs bcrypt on low-priority threads, where it can.
	bcryptPool *admission.NicedPool
	// Audit writes the service's events to the audit trail.
	Audit *audit.Writer
	// retention purges expired audit events while Serve runs (nil: off).
	retention *auditPurger
	// events are the service's event sinks, the audit writer first;
	// append others (metrics) to it before the service is built.
	events            auth.EventSinks
	tls               *tls.Config
	readHeaderTimeout time.Duration
}

// Option adjusts how Open builds the App.
type Option func(*App)

// WithClock replaces the wall clock everywhere time decides validity
// (tests drive expiry and grace windows with it instead of sleeping).
func WithClock(now func() time.Time) Option { return func(a *App) { a.clock = now } }

// Open connects to the store and denylist, applies migrations, and makes
// sure a signing key exists. Close releases what it opened.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, clock: time.Now, Metrics: metrics.New()}
	for _, opt := range opts {
		opt(a)
	}
	// The role grammar is the store's (config imports nothing of authd),
	// so this setting is checked here, before anything is opened.
	if err := store.ValidateRole(cfg.AdminRole); err != nil {
		return nil, fmt.Errorf("AUTHD_ADMIN_ROLE: must be a role name (1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit): %w", err)
	}
	for _, r := range cfg.MFARequiredRoleList() {
		if err := store.ValidateRole(r); err != nil {
			return nil, fmt.Errorf("AUTHD_MFA_REQUIRED_ROLES: %q is not a role name (1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit): %w", r, err)
		}
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Store, err = OpenStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	if err = a.Store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err = a.openDenylist(ctx); err != nil {
		return nil, err
	}
	a.Denylist = countedDenylist{Denylist: a.Denylist, m: a.Metrics}
	if a.Keys, err = OpenKeys(cfg, a.Store, log, a.clock, a.recordKeyChange); err != nil {
		return nil, err
	}
	if err = a.Keys.Ensure(ctx); err != nil {
		return nil, err
	}
	sealer, err := openSealer(cfg, log)
	if err != nil {
		return nil, err
	}
	templates, err := a.openMail(ctx)
	if err != nil {
		return nil, err
	}
	hasher := a.openHasher()
	policy := passwordPolicy(cfg)
	limits, rateLimits, err := a.openLimits()
	if err != nil {
		return nil, err
	}
	if err = a.loadTLS(); err != nil {
		return nil, err
	}
	a.openAudit()
	a.events = append(a.events, metricsSink{a.Metrics})
	if a.Service, err = auth.New(auth.Config{
		Issuer:            cfg.Issuer,
		Audience:          cfg.EffectiveAudience(),
		ClientID:          cfg.ClientID,
		AccessTTL:         cfg.AccessTTL,
		RefreshTTL:        cfg.RefreshTTL,
		RefreshReuseGrace: cfg.RefreshReuseGrace,
		Leeway:            cfg.Leeway,
		PasswordPolicy:    policy,
		Clock:             a.clock,
		Logger:            log,

		PublicURL:            cfg.EffectivePublicURL(),
		VerifyTTL:            cfg.VerifyTTL,
		ResetTTL:             cfg.ResetTTL,
		InviteTTL:            cfg.InviteTTL,
		AdminRole:            cfg.AdminRole,
		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
		Outbox:               a.Mail,
		Templates:            templates,
		Limits:               limits,
		Events:               a.events,
		MFA: auth.MFAConfig{
			Sealer:        sealer,
			Issuer:        cfg.EffectiveMFAIssuer(),
			TokenTTL:      cfg.MFATokenTTL,
			RequiredRoles: cfg.MFARequiredRoleList(),
		},
	}, a.Store, a.Denylist, a.Keys, a.Keys, hasher); err != nil {
		return nil, err
	}
	verifier, err := middleware.NewVerifier(
		middleware.WithIssuer(cfg.Issuer),
		middleware.WithAudience(cfg.EffectiveAudience()),
		middleware.WithLeeway(cfg.Leeway),
		// authd's own tokens never live longer: one minted with a stolen
		// key and a far exp is refused.
		middleware.WithMaxTokenLifetime(cfg.AccessTTL),
		middleware.WithVerifiedCache(cfg.VerifiedCacheSize),
		middleware.WithKeySet(a.Keys),
		middleware.WithRevocation(a.Denylist, middleware.FailClosed),
		middleware.WithLogger(log),
		middleware.WithClock(a.clock),
	)
	if err != nil {
		return nil, err
	}
	a.registerGauges()
	if err = a.openRetention(); err != nil {
		return nil, err
	}
	a.handler = httpapi.New(httpapi.Config{
		Observer:        a.Metrics,
		OnJWKS:          a.Metrics.JWKSServed,
		OnInternalError: func() { a.Metrics.DependencyError("store") },
		// Store outages are 503s, not 500s; they count the same.
		OnStoreUnavailable: func() { a.Metrics.DependencyError("store") },
		Issuer:             cfg.Issuer,
		AdminRole:          cfg.AdminRole,
		AdminRequireMFA:    cfg.AdminRequireMFA,
		JWKSMaxAge:         cfg.JWKSMaxAge,
		AccessTTL:          cfg.AccessTTL,
		Logger:             log,

		IntrospectionClientID:     cfg.IntrospectionClientID,
		IntrospectionClientSecret: cfg.IntrospectionClientSecret,
		TrustedProxies:            cfg.TrustedProxyList(),
		RateLimits:                rateLimits,
		TLS:                       a.tls != nil,
	}, a.Service, verifier, a.Keys, []httpapi.Check{
		{Name: "store", Ping: countedCheck(a.Metrics, "store", a.Store.Ping)},
		{Name: "denylist", Ping: a.Denylist.Ping}, // failures counted by countedDenylist
	})
	return a, nil
}

// OpenStore opens the configured store without migrating it: the backend
// registered for AUTHD_DATABASE_URL's scheme, or SQLite in AUTHD_DATA_DIR
// when it is empty.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	dsn := cfg.DatabaseURL
	if dsn == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("AUTHD_DATA_DIR: %w", err)
		}
		dsn = "sqlite://" + filepath.Join(cfg.DataDir, "authd.db")
	}
	s, err := store.Open(ctx, dsn, store.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// PublishAhead is how long a rotated-in key is published before it signs:
// every replica reloads keys within KeyReloadInterval, then every verifier
// refetches the JWKS within JWKSMaxAge; a minute of margin for clock skew.
func PublishAhead(cfg config.Config) time.Duration {
	return cfg.KeyPublishAhead()
}

// openSealer returns the sealer of TOTP secrets, keyed from the master
// key (OpenKeys has resolved, or generated, it already).
func openSealer(cfg config.Config, log *slog.Logger) (*mfa.Sealer, error) {
	master, err := MasterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return mfa.NewSealer(master)
}

// OpenKeys returns the key manager for cfg, resolving the master key.
func OpenKeys(cfg config.Config, s keys.Store, log *slog.Logger, clock func() time.Time, onChange func(ctx context.Context, c keys.Change)) (*keys.Manager, error) {
	master, err := MasterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return keys.New(s, keys.Config{
		Algorithm:        cfg.SigningAlg,
		MasterKey:        master,
		MaxTokenLifetime: cfg.MaxTokenLifetime(),
		PublishAhead:     PublishAhead(cfg),
		OnChange:         onChange,
		Clock:            clock,
		Logger:           log,
	})
}

func (a *App) openDenylist(ctx context.Context) error {
	if a.cfg.RedisURL == "" {
		a.Denylist = denylist.NewMemory(denylist.WithClock(a.clock))
		return nil
	}
	rcfg, err := redisurl.Parse(a.cfg.RedisURL)
	if err != nil {
		// config.Load has checked it; the message never repeats the URL.
		return fmt.Errorf("AUTHD_REDIS_URL: %w", err)
	}
	layout, err := denylist.ParseLayout(a.cfg.DenylistLayout)
	if err != nil {
		return fmt.Errorf("AUTHD_DENYLIST_LAYOUT: %w", err)
	}
	a.layout = layout
	// Short timeouts: a slow Redis must fail a request fast (503), not
	// hold it. One client, whatever the topology, serves the denylist,
	// the mirror, the rate limiter and the backoff.
	a.redis = rcfg.NewClient(redisurl.ClientOptions{DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	a.log.LogAttrs(ctx, slog.LevelInfo, "redis denylist", slog.String("topology", string(rcfg.Topology)),
		slog.String("url", rcfg.String()), slog.String("layout", layout.String()))
	if rcfg.Topology == redisurl.Cluster && strings.ContainsAny(a.cfg.RedisKeyPrefix+a.cfg.RateLimitKeyPrefix, "{}") {
		a.log.LogAttrs(ctx, slog.LevelWarn, "a Redis key prefix holds a hash tag: its keys all land on one cluster shard",
			slog.String("denylist_prefix", a.cfg.RedisKeyPrefix), slog.String("ratelimit_prefix", a.cfg.RateLimitKeyPrefix))
	}
	writer := denylist.NewRedis(a.redis, denylist.WithKeyPrefix(a.cfg.RedisKeyPrefix), denylist.WithClock(a.clock), denylist.WithLayout(layout))
	a.Denylist = writer
	if a.cfg.RevocationMirror {
		a.openMirror(ctx, writer)
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := writer.Ping(pctx); err != nil {
		// Not fatal: /readyz reports it and logout answers 503 until it
		// comes back, but say so at start.
		a.log.LogAttrs(ctx, slog.LevelWarn, "redis denylist not answering at start", slog.Any("error", err))
		return nil
	}
	if a.mirror != nil {
		// Wait for the first copy, so that a healthy start is ready at
		// once; otherwise /readyz says not ready until it is.
		if err := a.mirror.CatchUp(pctx); err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "revocation mirror not in sync at start; checks answer 503 until it is", slog.Any("error", err))
		}
	}
	return nil
}

// openMirror puts a denylist.Mirror of Redis in front of writer's checks
// (AUTHD_REVOCATION_MIRROR). The mirror runs until Close, not until ctx
// ends: ctx only bounds Open.
func (a *App) openMirror(ctx context.Context, writer *denylist.Redis) {
	a.mirror = denylist.NewMirror(context.WithoutCancel(ctx), a.redis,
		denylist.WithKeyPrefix(a.cfg.RedisKeyPrefix), denylist.WithClock(a.clock), denylist.WithLogger(a.log), denylist.WithLayout(a.layout))
	a.Denylist = newMirroredDenylist(writer, a.mirror, denylist.DefaultMaxStaleness, a.log)
}

// Handler returns the HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Serve serves the API on ln until ctx is done, then shuts down gracefully
// within the configured timeout.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cmp.Or(a.readHeaderTimeout, 5*time.Second), // slowloris: headers arrive in time or the connection ends
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go a.Keys.Run(runCtx, a.cfg.KeyReloadInterval, a.cfg.KeyRotationInterval)
	if a.retention != nil {
		go a.retention.run(runCtx)
	}
	stopSide, err := a.serveSide(runCtx)
	defer stopSide()
	if err != nil {
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- a.serveOn(srv, ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close drains the mail queue, stops the revocation mirror, then releases
// the store and Redis connections.
func (a *App) Close() error {
	a.closeMail()
	a.closeAudit()
	a.closeBcryptPool()
	var errs []error
	if a.mirror != nil {
		errs = append(errs, a.mirror.Close())
	}
	if a.redis != nil {
		errs = append(errs, a.redis.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	return errors.Join(errs...)
}
