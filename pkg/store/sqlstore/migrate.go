package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrations holds the schema, one directory per dialect. Files are
// numbered (00001_init.sql, ...) and each runs in one transaction.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql migrations/mysql/*.sql
var migrations embed.FS

// migrateLockKey is the advisory lock Migrate holds, fixed so that every
// replica starting at once contends for the same one.
const migrateLockKey = "sqlstore/migrate"

// Migrate brings the schema up to date with the embedded migrations. It is
// idempotent. On Postgres and MySQL it runs under an advisory lock (GET_LOCK on MySQL), so replicas that
// start together migrate one after the other: the first applies, the others
// find nothing to do. goose's version table (goose_db_version) lives in the
// first schema of the connection's search_path, beside authd's tables.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrationProvider()
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return s.WithAdvisoryLock(ctx, migrateLockKey, func(ctx context.Context) error {
		results, err := p.Up(ctx)
		for _, r := range results {
			s.log.Info("applied migration", "dialect", s.d.name, "version", r.Source.Version,
				"file", r.Source.Path, "duration", r.Duration, "err", r.Error)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		return nil
	})
}

// migrationProvider returns a goose provider of the dialect's embedded
// migrations on the writer pool.
func (s *Store) migrationProvider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.name)
	if err != nil {
		return nil, err
	}
	// A Provider has no global state, unlike goose.Up: nothing registered
	// elsewhere in the binary can leak into our migrations.
	return goose.NewProvider(s.d.goose, s.w.DB, sub, goose.WithDisableGlobalRegistry(true))
}
