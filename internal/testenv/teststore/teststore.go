// Package teststore opens the real SQL store for the tests of packages
// built on it, migrated and closed when the test ends. It lives apart from
// internal/testenv because sqlstore's own tests import testenv.
package teststore

import (
	"path/filepath"
	"testing"

	"github.com/authd/authd/pkg/store/sqlstore"
)

// Open opens and migrates the store at dsn, closed at the end of the test.
func Open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// SQLite opens a migrated SQLite store in a file of the test's own.
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return Open(t, "sqlite://"+filepath.Join(t.TempDir(), "authd.db"))
}
