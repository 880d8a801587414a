package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/audit"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/pkg/store"
)

func (c *command) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.FromEnvironment(c.configPath)
	if err != nil {
		return cfg, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, newLogger(c.stderr, cfg.LogLevel, cfg.LogFormat), nil
}

// openAdmin loads the configuration and opens the service an admin
// command works on, with only the parts needs names (the table in
// docs/ARCHITECTURE.md, "What each command opens"); the caller closes it.
func (c *command) openAdmin(ctx context.Context, needs app.Needs) (*app.Admin, config.Config, error) {
	cfg, log, err := c.load()
	if err != nil {
		return nil, cfg, err
	}
	a, err := app.OpenAdmin(ctx, cfg, log, needs)
	return a, cfg, err
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
	backend := cfg.DatabaseBackend()
	denylist := "memory"
	if cfg.RedisURL != "" {
		denylist = "redis"
	}
	log.Info("authd listening", slog.String("addr", ln.Addr().String()), slog.String("issuer", cfg.Issuer),
		slog.String("store", backend), slog.String("denylist", denylist), slog.Int("bcrypt_low_priority_threads", a.BcryptThreads()),
		slog.Duration("startup", time.Since(start)), slog.String("version", versionString()))
	hupCtx, stopHup := context.WithCancel(ctx)
	defer stopHup()
	stopReload := reloadKeysOnHangup(hupCtx, a.Keys().Reload, log)
	err = a.Serve(ctx, ln)
	stopHup()
	stopReload()
	if err != nil {
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

const keysUsage = "keys rotate [--now] | keys revoke KID | keys list"

func (c *command) keys(ctx context.Context, args []string) error {
	var op string
	switch {
	case len(args) == 1 && (args[0] == "rotate" || args[0] == "list"):
		op = args[0]
	case len(args) == 2 && args[0] == "rotate" && args[1] == "--now":
		op = "rotate --now"
	case len(args) == 2 && args[0] == "revoke" && args[1] != "" && !strings.HasPrefix(args[1], "-"):
		op = "revoke"
	default:
		return fmt.Errorf("%w: %s", errUsage, keysUsage)
	}
	cfg, log, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if op == "list" {
		return c.listKeys(ctx, s)
	}
	// The CLI has no service: its key changes reach the audit trail
	// through a writer of its own, with the events the server writes.
	events := audit.NewWriter(s, log, time.Now)
	defer func() {
		if err := events.Close(ctx); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "audit events left unwritten", slog.Any("error", err))
		}
	}()
	km, err := app.OpenKeys(cfg, s, log, time.Now, func(ctx context.Context, ch keys.Change) {
		events.Record(ctx, app.KeyChangeEvent(ch))
	})
	if err != nil {
		return err
	}
	reload := "running replicas load the change within " + cfg.KeyReloadInterval.String()
	switch op {
	case "rotate":
		k, err := km.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "new signing key %s (%s) is published now and signs from %s; %s\n",
			k.ID, k.Algorithm, stamp(time.Now().Add(app.PublishAhead(cfg))), reload)
	case "rotate --now":
		// What RotateNow will revoke, read just before (for the report).
		if err := km.Reload(ctx); err != nil {
			return err
		}
		before := signingKIDs(km.Keys(), time.Now())
		k, err := km.RotateNow(ctx)
		if err != nil {
			return err
		}
		revoked := strings.Join(before, ", ")
		if revoked == "" {
			revoked = "no key"
		}
		fmt.Fprintf(c.stdout, "new signing key %s (%s) signs from now on; revoked %s; %s\n",
			k.ID, k.Algorithm, revoked, reload)
	case "revoke":
		k, err := km.Revoke(ctx, args[1])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no signing key %q (keys list shows them)", args[1])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "signing key %s revoked: it is out of the JWKS and its access tokens are refused; %s\n", args[1], reload)
		if k != nil {
			fmt.Fprintf(c.stdout, "it was signing (or about to): new signing key %s (%s) signs from now on\n", k.ID, k.Algorithm)
		}
	}
	return nil
}

// signingKIDs are the unrevoked keys that sign at now or will later: the
// ones keys rotate --now replaces and revokes.
func signingKIDs(ks []store.SigningKey, now time.Time) []string {
	var ids []string
	for _, k := range ks {
		if k.RevokedAt.IsZero() && (k.RetiredAt.IsZero() || k.RetiredAt.After(now)) {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

func (c *command) listKeys(ctx context.Context, s store.Store) error {
	keys, err := s.SigningKeys(ctx, time.Now())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tACTIVATES\tRETIRED\tEXPIRES\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, stamp(k.CreatedAt), stamp(k.ActivatesAt),
			stamp(k.RetiredAt), stamp(k.ExpiresAt), stamp(k.RevokedAt))
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
func (c *command) openStore(ctx context.Context) (config.Config, *slog.Logger, store.Store, error) {
	cfg, log, err := c.load()
	if err != nil {
		return cfg, nil, nil, err
	}
	s, err := app.OpenMigratedStore(ctx, cfg, log)
	if err != nil {
		return cfg, nil, nil, err
	}
	return cfg, log, s, nil
}
