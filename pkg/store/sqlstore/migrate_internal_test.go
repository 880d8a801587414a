package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
)

// TestMigration00006DownAndUp takes migration 00006 down and up again on
// both dialects: down restores the strict append-only trigger (the erasure
// UPDATE is refused again) and drops what 00006 added; up brings both back.
func TestMigration00006DownAndUp(t *testing.T) {
	dialects := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "m.db") }},
		{"postgres", func(t *testing.T) string { return testenv.Postgres(t) }},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := Open(ctx, d.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			p, err := s.migrationProvider()
			if err != nil {
				t.Fatal(err)
			}
			exec := func(q string) error { _, err := s.w.ExecContext(ctx, q); return err }
			if err := exec(`INSERT INTO audit_events (at, type, outcome, user_id, ip, user_agent) VALUES (1, 'login', 'success', 'u', '192.0.2.1', 'ua')`); err != nil {
				t.Fatal(err)
			}
			const erase = `UPDATE audit_events SET ip = '', user_agent = ''`

			if _, err := p.DownTo(ctx, 5); err != nil {
				t.Fatalf("down to 00005: %v", err)
			}
			if err := exec(erase); err == nil {
				t.Error("after down: erasing ip and user_agent succeeded, want the strict trigger back")
			}
			for _, q := range []string{
				`SELECT count(*) FROM clients`,
				`SELECT last_login_at FROM users`,
				`SELECT actor_id FROM audit_events`,
			} {
				if err := exec(q); err == nil {
					t.Errorf("after down: %s succeeded", q)
				}
			}
			if err := exec(`DELETE FROM audit_events`); err == nil {
				t.Error("after down: DELETE succeeded")
			}

			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
			if err := exec(erase); err != nil {
				t.Errorf("after up: erasure refused: %v", err)
			}
			if err := exec(`UPDATE audit_events SET detail = 'x'`); err == nil {
				t.Error("after up: another UPDATE succeeded")
			}
			for _, q := range []string{
				`SELECT count(*) FROM clients`,
				`SELECT last_login_at FROM users`,
				`SELECT actor_id FROM audit_events`,
			} {
				if err := exec(q); err != nil {
					t.Errorf("after up: %s: %v", q, err)
				}
			}
		})
	}
}
