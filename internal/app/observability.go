package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/metrics"
	"github.com/authd/authd/pkg/denylist"
)

// metricsSink counts the service's events by type and outcome.
type metricsSink struct{ m *metrics.Metrics }

func (s metricsSink) Record(_ context.Context, e auth.Event) { s.m.Event(e.Type, e.Outcome) }

var _ auth.EventSink = metricsSink{}

// registerGauges exposes state kept elsewhere, read at scrape time.
func (a *App) registerGauges() {
	a.metrics.GaugeFunc("authd_signing_key_age_seconds", "Seconds since the current signing key started signing.", func() float64 {
		now := a.set.clock()
		var newest time.Time
		for _, k := range a.keys.Keys() {
			if !k.ActivatesAt.After(now) && k.ActivatesAt.After(newest) {
				newest = k.ActivatesAt
			}
		}
		if newest.IsZero() {
			return 0
		}
		return now.Sub(newest).Seconds()
	})
	a.metrics.GaugeFunc("authd_signing_keys_published", "Keys in the JWKS.", func() float64 { return float64(len(a.keys.Keys())) })
	if mirror := a.revocations.mirror(); mirror != nil {
		a.metrics.GaugeFunc("authd_denylist_mirror_synced", "1 while the revocation mirror answers checks, 0 while they fail closed.", func() float64 {
			if mirror.Synced() {
				return 1
			}
			return 0
		})
		a.metrics.GaugeFunc("authd_denylist_mirror_entries", "Revocations held by the revocation mirror (0 while out of sync).", func() float64 {
			return float64(mirror.Len())
		})
	}
	if gate := a.hashing.gate; gate != nil {
		a.metrics.GaugeFunc("authd_bcrypt_in_flight", "bcrypt computations running now.", func() float64 { return float64(gate.InFlight()) })
		a.metrics.GaugeFunc("authd_bcrypt_queue_depth", "bcrypt computations waiting for a slot.", func() float64 { return float64(gate.Queued()) })
		a.metrics.CounterFunc("authd_bcrypt_wait_seconds_total", "Total time bcrypt computations waited for a slot.", func() float64 {
			return gate.Stats().Wait.Seconds()
		})
		a.metrics.CounterFunc("authd_bcrypt_rejected_total", "bcrypt computations refused (queue full or wait too long): answered 503.", func() float64 {
			return float64(gate.Stats().Rejected())
		})
		a.metrics.CounterFunc("authd_bcrypt_owner_busy_total", "bcrypt computations refused because the same signed-in user had one in flight: answered 429.", func() float64 {
			return float64(gate.Stats().OwnerBusy)
		})
	}
	if a.audit != nil {
		// Lost audit events are otherwise invisible: the writer drops rather
		// than slow a login, and logs a failed batch once.
		a.metrics.CounterFunc("authd_audit_events_dropped_total", "Audit events dropped because the audit queue was full.", func() float64 {
			return float64(a.audit.Dropped())
		})
		a.metrics.CounterFunc("authd_audit_events_failed_total", "Audit events that could not be written to the store.", func() float64 {
			return float64(a.audit.Failed())
		})
	}
	if q := a.mail.queue; q != nil {
		a.metrics.CounterFunc("authd_mail_failed_total", "Mails that could not be sent after retries.", func() float64 {
			return float64(q.Stats().Failed)
		})
		a.metrics.CounterFunc("authd_mail_dropped_total", "Mails dropped because the queue was full.", func() float64 {
			return float64(q.Stats().Dropped)
		})
		a.metrics.CounterFunc("authd_mail_sent_total", "Mails sent.", func() float64 {
			return float64(q.Stats().Sent)
		})
	}
}

// serveSide starts the metrics and pprof listeners, apart from the API, and
// returns a func that stops them.
func (a *App) serveSide(ctx context.Context) (stop func(), err error) {
	var servers []*http.Server
	start := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s listener on %s: %w", name, addr, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
		servers = append(servers, srv)
		a.log.LogAttrs(ctx, slog.LevelInfo, name+" listening", slog.String("addr", ln.Addr().String()))
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.LogAttrs(ctx, slog.LevelError, name+" server failed", slog.Any("error", err))
			}
		}()
		return nil
	}
	stop = func() {
		for _, s := range servers {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.Shutdown(sctx)
			cancel()
		}
	}
	if a.cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler())
		if err := start("metrics", a.cfg.MetricsAddr, mux); err != nil {
			return stop, err
		}
	}
	if a.cfg.PprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if err := start("pprof", a.cfg.PprofAddr, mux); err != nil {
			return stop, err
		}
	}
	return stop, nil
}

// countedDenylist counts denylist failures (Redis unreachable) while
// passing every call through unchanged.
type countedDenylist struct {
	denylist.Denylist
	m *metrics.Metrics
}

func (d countedDenylist) count(err error) error {
	if errors.Is(err, denylist.ErrUnavailable) {
		d.m.DependencyError("denylist")
	}
	return err
}

func (d countedDenylist) Check(ctx context.Context, t denylist.Token) error {
	return d.count(d.Denylist.Check(ctx, t))
}

func (d countedDenylist) RevokeToken(ctx context.Context, subject, jti string, until time.Time) error {
	return d.count(d.Denylist.RevokeToken(ctx, subject, jti, until))
}

func (d countedDenylist) RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error {
	return d.count(d.Denylist.RevokeSessions(ctx, subject, sids, until))
}

func (d countedDenylist) RevokeUserBefore(ctx context.Context, sub string, cutoff, until time.Time) error {
	return d.count(d.Denylist.RevokeUserBefore(ctx, sub, cutoff, until))
}

// countedCheck counts a failed readiness probe as a dependency error.
func countedCheck(m *metrics.Metrics, name string, ping func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := ping(ctx)
		if err != nil {
			m.DependencyError(name)
		}
		return err
	}
}

func (d countedDenylist) Ping(ctx context.Context) error { return d.count(d.Denylist.Ping(ctx)) }

// recordKeyChange puts a key rotation or revocation on the audit trail and
// the metrics. The sinks are read at call time: the key ring is built
// before them.
func (a *App) recordKeyChange(ctx context.Context, c keys.Change) {
	a.events.Record(ctx, KeyChangeEvent(c))
}

// KeyChangeEvent is the audit event of a key created (key_rotation) or
// revoked (key_revocation); the CLI writes the same one.
func KeyChangeEvent(c keys.Change) auth.Event {
	if c.Revoked {
		return auth.Event{Type: auth.EventKeyRevocation, Outcome: auth.OutcomeSuccess,
			Detail: "kid:" + c.KID + " revoked:" + c.At.UTC().Format(time.RFC3339)}
	}
	return auth.Event{Type: auth.EventKeyRotation, Outcome: auth.OutcomeSuccess,
		Detail: "kid:" + c.KID + " activates:" + c.At.UTC().Format(time.RFC3339)}
}
