package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

func (c *command) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.FromEnvironment(c.configPath)
	if err != nil {
		return cfg, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, newLogger(c.stderr, cfg.LogLevel, cfg.LogFormat), nil
}

func (c *command) serve(ctx context.Context) error {
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	start := time.Now()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("AUTHD_ADDR: %w", err)
	}
	backend := "sqlite"
	if cfg.UsesPostgres() {
		backend = "postgres"
	}
	denylist := "memory"
	if cfg.RedisURL != "" {
		denylist = "redis"
	}
	log.Info("authd listening", slog.String("addr", ln.Addr().String()), slog.String("issuer", cfg.Issuer),
		slog.String("store", backend), slog.String("denylist", denylist), slog.Int("bcrypt_low_priority_threads", a.BcryptThreads()),
		slog.Duration("startup", time.Since(start)), slog.String("version", versionString()))
	if err := a.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("authd stopped")
	return nil
}

func (c *command) migrate(ctx context.Context) error {
	_, _, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintln(c.stdout, "migrations applied")
	return nil
}

func (c *command) keys(ctx context.Context, args []string) error {
	now := len(args) == 2 && args[0] == "rotate" && args[1] == "--now"
	if !now && (len(args) != 1 || (args[0] != "rotate" && args[0] != "list")) {
		return fmt.Errorf("%w: keys rotate [--now] | keys list", errUsage)
	}
	cfg, log, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	km, err := app.OpenKeys(cfg, s, log, time.Now, func(ctx context.Context, kid string, activatesAt time.Time) {
		// The CLI writes its audit event directly: it has no event queue.
		_ = s.AppendAuditEvents(ctx, []store.AuditEvent{{Type: auth.EventKeyRotation, Outcome: auth.OutcomeSuccess,
			Detail: "kid:" + kid + " activates:" + activatesAt.UTC().Format(time.RFC3339)}})
	})
	if err != nil {
		return err
	}
	if args[0] == "rotate" {
		rotate := km.Rotate
		if now {
			rotate = km.RotateNow
		}
		k, err := rotate(ctx)
		if err != nil {
			return err
		}
		when := "signs from now on"
		if !now {
			when = "is published now and signs from " + stamp(time.Now().Add(app.PublishAhead(cfg)))
		}
		fmt.Fprintf(c.stdout, "new signing key %s (%s) %s; running replicas load it within %s\n", k.ID, k.Algorithm, when, cfg.KeyReloadInterval)
		return nil
	}
	keys, err := s.SigningKeys(ctx, time.Now())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tACTIVATES\tRETIRED\tEXPIRES")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, stamp(k.CreatedAt), stamp(k.ActivatesAt), stamp(k.RetiredAt), stamp(k.ExpiresAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (c *command) configCheck() error {
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, s := range cfg.Settings() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Env, s.Value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "configuration is valid")
	return nil
}

func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "authd (unknown version)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return "authd " + v + " " + info.GoVersion
}

// openStore loads the configuration and opens the store, migrated: every
// command that reads or writes the database starts here.
func (c *command) openStore(ctx context.Context) (config.Config, *slog.Logger, *sqlstore.Store, error) {
	cfg, log, err := c.load()
	if err != nil {
		return cfg, nil, nil, err
	}
	s, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return cfg, nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return cfg, log, s, nil
}
