// Package app wires authd together from a config.Config. Each concern has
// a small constructor that returns what it opened and how to close it:
// the store (store.go), revocation (the denylist, Redis, the mirror and the
// recorder: revocation.go), the signing keys (keys.go), mail (mail.go),
// hashing (the bcrypt gate and its niced pool) and the limits (abuse.go),
// the audit writer (audit.go), the service (service.go) and the HTTP layer
// with TLS (http.go, listen.go). Open composes all of them into the server
// that cmd/authd serves and the end-to-end tests run, so the tests run what
// ships; OpenAdmin (admin.go) composes only what an admin command uses.
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
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/metrics"
	"github.com/authd/authd/pkg/store"
)

// App is a configured authd server: every part Open composed. Its parts
// are read through methods; none can be replaced once it is open.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	set     settings
	closers closers

	store       store.Store
	revocations *Revocations
	keys        *keys.Manager
	hashing     *hashing
	audit       *audit.Writer
	mail        *mailer
	metrics     *metrics.Metrics
	service     *auth.Service
	// events are the service's event sinks: the audit writer, then the
	// metrics. The key ring records through them (recordKeyChange), and is
	// built before them.
	events auth.EventSinks
	// retention purges expired audit events while Serve runs (nil: off).
	retention *auditPurger
	handler   http.Handler
	tls       *tls.Config
}

// settings are what the Options change.
type settings struct {
	clock             func() time.Time
	mailOpts          []mail.QueueOption
	readHeaderTimeout time.Duration
}

// Option adjusts how Open (or OpenAdmin) builds authd.
type Option func(*settings)

// WithClock replaces the wall clock everywhere time decides validity
// (tests drive expiry and grace windows with it instead of sleeping).
func WithClock(now func() time.Time) Option { return func(s *settings) { s.clock = now } }

func newSettings(opts []Option) settings {
	s := settings{clock: time.Now}
	for _, opt := range opts {
		opt(&s)
	}
	return s
}

// closers are the closes of what was opened, run last opened first: the
// mail queue drains and the audit writer flushes before the store closes.
type closers []func() error

func (c *closers) add(close func() error) { *c = append(*c, close) }

func (c *closers) close() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i]())
	}
	*c = nil
	return errors.Join(errs...)
}

// checkRoles checks the role settings against the store's grammar, which
// config cannot (it imports nothing of authd), before anything is opened.
func checkRoles(cfg config.Config) error {
	if err := store.ValidateRole(cfg.AdminRole); err != nil {
		return fmt.Errorf("AUTHD_ADMIN_ROLE: must be a role name (1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit): %w", err)
	}
	for _, r := range cfg.MFARequiredRoleList() {
		if err := store.ValidateRole(r); err != nil {
			return fmt.Errorf("AUTHD_MFA_REQUIRED_ROLES: %q is not a role name (1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit): %w", r, err)
		}
	}
	return nil
}

// Open builds the whole server: the store, migrated; revocation with the
// mirror and the sync loop; the signing keys, one ensured to exist; mail;
// hashing on niced threads; the audit writer and the retention purge; the
// metrics; the service; the HTTP API and TLS. Close releases what it
// opened; Serve serves it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	if err := checkRoles(cfg); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, set: newSettings(opts), metrics: metrics.New()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	clock := a.set.clock
	if a.store, err = OpenMigratedStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	a.closers.add(a.store.Close)
	if a.revocations, err = openRevocations(ctx, cfg, log, a.store, clock, true); err != nil {
		return nil, err
	}
	a.closers.add(a.revocations.Close)
	signing, err := openSigning(ctx, cfg, a.store, log, clock, a.recordKeyChange)
	if err != nil {
		return nil, err
	}
	a.keys = signing.keys
	a.hashing = openHashing(cfg, log)
	a.closers.add(a.hashing.close)
	var closeAudit func() error
	a.audit, closeAudit = openAudit(cfg, a.store, log, clock)
	a.closers.add(closeAudit)
	a.events = auth.EventSinks{a.audit, metricsSink{a.metrics}}
	if a.mail, err = openMail(ctx, cfg, log, a.set.mailOpts); err != nil {
		return nil, err
	}
	a.closers.add(a.mail.close)
	limits, rateLimits, err := openLimits(cfg, log, clock, a.revocations.redis())
	if err != nil {
		return nil, err
	}
	if a.tls, err = loadTLS(cfg); err != nil {
		return nil, err
	}
	denylist := countedDenylist{Denylist: a.revocations.Denylist(), m: a.metrics}
	svc := serviceConfig(cfg, log, clock)
	svc.Outbox, svc.Templates = a.mail.queue, a.mail.templates
	svc.Limits, svc.Events, svc.MFA.Sealer = limits, a.events, signing.sealer
	if a.service, err = auth.New(svc, a.store, denylist, a.keys, a.keys, a.hashing.hasher); err != nil {
		return nil, err
	}
	a.registerGauges()
	if err = a.openRetention(); err != nil {
		return nil, err
	}
	if a.handler, err = a.openHTTP(denylist, rateLimits); err != nil {
		return nil, err
	}
	return a, nil
}

// Store returns the store (migrated).
func (a *App) Store() store.Store { return a.store }

// Service returns the service behind the API.
func (a *App) Service() *auth.Service { return a.service }

// Keys returns the signing key ring.
func (a *App) Keys() *keys.Manager { return a.keys }

// Mail returns the mail queue; its Stats count what was sent and failed.
func (a *App) Mail() *mail.Queue { return a.mail.queue }

// Metrics returns the Prometheus metrics served on AUTHD_METRICS_ADDR.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Gate returns the gate every bcrypt computation passes
// (AUTHD_BCRYPT_MAX_*); its Stats count admissions and refusals.
func (a *App) Gate() *admission.Gate { return a.hashing.gate }

// Handler returns the HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// BcryptThreads returns how many low-priority threads run bcrypt (0 when it
// runs at normal priority).
func (a *App) BcryptThreads() int { return a.hashing.threads() }

// Serve serves the API on ln until ctx is done, then shuts down gracefully
// within the configured timeout. It also runs the key reloads and
// rotation, the audit retention purge and the metrics and pprof listeners.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cmp.Or(a.set.readHeaderTimeout, 5*time.Second), // slowloris: headers arrive in time or the connection ends
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go a.keys.Run(runCtx, a.cfg.KeyReloadInterval, a.cfg.KeyRotationInterval)
	if a.retention != nil {
		go a.retention.run(runCtx)
	}
	stopSide, err := a.serveSide(runCtx)
	defer stopSide()
	if err != nil {
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- serveOn(srv, ln, a.tls) }()
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

// Close drains the mail queue, flushes the audit writer, ends the bcrypt
// threads, stops the revocation sync loop and the mirror, then releases
// the Redis and store connections.
func (a *App) Close() error { return a.closers.close() }
