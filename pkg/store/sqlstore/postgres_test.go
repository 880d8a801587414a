package sqlstore_test

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/authd/authd/pkg/store/storetest"
)

func TestPostgres(t *testing.T) {
	testenv.Postgres(t) // skip (or fail under CI) before running any case
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, testenv.Postgres(t))
	})
}

// schemaOf returns the search_path testenv put in dsn.
func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

func TestPostgresMigrate(t *testing.T) {
	dsn := testenv.Postgres(t)
	s := openMigrated(t, dsn)
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := schemaOf(t, dsn)
	for _, table := range []string{"goose_db_version", "users", "user_roles", "sessions", "signing_keys", "one_time_tokens", "clients"} {
		var n int
		err := db.QueryRowContext(testCtx(t), `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2`, schema, table).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("table %s in schema %s: count %d, err %v", table, schema, n, err)
		}
	}
	var applied int
	if err := db.QueryRowContext(testCtx(t), `SELECT count(*) FROM `+schema+`.goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	// One row per migration file: each applied once, however many runs.
	files, err := filepath.Glob("migrations/postgres/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("%d migrations recorded after two runs, want %d (one per file)", applied, len(files))
	}
}

func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := testenv.Postgres(t)
	const n = 4
	stores := make([]*sqlstore.Store, n)
	for i := range stores {
		s, err := sqlstore.Open(testCtx(t), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(testCtx(t))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	if _, err := stores[0].CreateUser(testCtx(t), store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser after concurrent migrations: %v", err)
	}
}
