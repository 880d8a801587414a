package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/storetest"
)

// rawExecOn opens a second, plain connection to the same database, so the
// append-only check goes around the store's own code.
func rawExecOn(t *testing.T, driver, dsn string) func(ctx context.Context, q string) error {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(ctx context.Context, q string) error {
		_, err := db.ExecContext(ctx, q)
		return err
	}
}

func TestSQLiteAudit(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) (store.AuditLog, func(context.Context, string) error) {
		path := filepath.Join(t.TempDir(), "audit.db")
		return openMigrated(t, "sqlite://"+path), rawExecOn(t, "sqlite", path)
	})
}

func TestPostgresAudit(t *testing.T) {
	testenv.Postgres(t)
	storetest.RunAudit(t, func(t *testing.T) (store.AuditLog, func(context.Context, string) error) {
		dsn := testenv.Postgres(t)
		return openMigrated(t, dsn), rawExecOn(t, "postgres", dsn)
	})
}
