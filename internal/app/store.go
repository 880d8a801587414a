package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/authd/authd/config"
	"github.com/authd/authd/pkg/store"
	// The store backends this binary links; each registers its URL
	// schemes with store.Register.
	_ "github.com/authd/authd/pkg/store/mongostore" // mongodb:, mongodb+srv:
	_ "github.com/authd/authd/pkg/store/sqlstore"
)

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

// OpenMigratedStore opens the store and applies the migrations: every
// part that reads or writes the database starts here, and the commands
// that need nothing else (migrate, keys, audit tail, users export) stop
// here. The caller closes it.
func OpenMigratedStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	s, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}
