package main

import (
	"context"
	"database/sql"
	"io"
	"testing"

	"github.com/authd/authd/internal/testenv"
)

// A small seed lands every row, in at order for the audit trail, with the
// admin; a second run without -append is refused.
func TestSeed(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	args := []string{"-database-url", dsn, "-users", "50", "-sessions", "40", "-audit", "300", "-bcrypt-cost", "4"}
	if err := run(ctx, args, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := []struct {
		query string
		want  int
	}{
		{`SELECT count(*) FROM users`, 51},
		{`SELECT count(*) FROM sessions`, 40},
		{`SELECT count(*) FROM audit_events`, 300},
		{`SELECT count(*) FROM user_roles WHERE role = 'admin'`, 1},
		// Appended oldest first: no event has a smaller id than an older one.
		{`SELECT count(*) FROM audit_events a JOIN audit_events b ON a.id < b.id AND a.at > b.at`, 0},
	}
	for _, c := range counts {
		var n int
		if err := db.QueryRowContext(ctx, c.query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%s = %d, want %d", c.query, n, c.want)
		}
	}
	if err := run(ctx, args, io.Discard); err == nil {
		t.Error("a second seed without -append succeeded")
	}
}
