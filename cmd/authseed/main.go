// Command authseed loads a Postgres database with a large synthetic data
// set (by default 1,000,000 users, 1,000,000 sessions and 10,000,000
// audit events) through COPY, to measure authd at scale:
//
//	go run ./cmd/authseed -database-url 'postgres://postgres@127.0.0.1:5432/authd_scale?sslmode=disable'
//
// `authseed pages -target URL` then loads GET /v1/admin/users as the seeded
// admin, walking the keyset pages, and prints pages per second.
//
// It migrates the database first (authd's own migrations), so the schema
// is the one authd runs on, and refuses a database that already has users
// unless -append is given. Every seeded user has the same password
// (-password), hashed once: a million bcrypt hashes would take hours and
// measure nothing. Times are spread as a live service's are: users over
// the last three years, sessions over the last refresh TTL, audit events
// over the last 500 days (so the default 400-day retention has a fifth of
// them to purge). It is a benchmark tool, not for production databases.
package main

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"github.com/authd/authd/pkg/store/sqlstore"
)

type options struct {
	databaseURL   string
	users         int
	sessions      int
	audit         int
	password      string
	bcryptCost    int
	adminEmail    string
	adminPassword string
	appendRows    bool
	seed          uint64
}

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "pages" {
		err = runPages(context.Background(), os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = run(context.Background(), os.Args[1:], os.Stderr)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "authseed:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("authseed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("AUTHD_DATABASE_URL"), "Postgres URL of the database to seed (default $AUTHD_DATABASE_URL)")
	fs.IntVar(&o.users, "users", 1_000_000, "users to create")
	fs.IntVar(&o.sessions, "sessions", 1_000_000, "sessions to create, spread over the users")
	fs.IntVar(&o.audit, "audit", 10_000_000, "audit events to create, spread over the users")
	fs.StringVar(&o.password, "password", "seed-password", "the password of every seeded user")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 10, "bcrypt cost of the one password hash")
	fs.StringVar(&o.adminEmail, "admin-email", "admin@seed.example", "an admin user to create (role admin) for the admin API; empty: none")
	fs.StringVar(&o.adminPassword, "admin-password", "seed-admin-password", "the admin user's password")
	fs.BoolVar(&o.appendRows, "append", false, "seed a database that already has users")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the pseudo-random spread (same seed, same times)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.databaseURL == "":
		return o, errors.New("-database-url (or AUTHD_DATABASE_URL) is required")
	case o.users < 1 || o.sessions < 0 || o.audit < 0:
		return o, errors.New("-users must be at least 1, -sessions and -audit at least 0")
	case o.bcryptCost < bcrypt.MinCost || o.bcryptCost > bcrypt.MaxCost:
		return o, fmt.Errorf("-bcrypt-cost must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s, err := sqlstore.Open(ctx, o.databaseURL, sqlstore.WithLogger(log))
	if err != nil {
		return err
	}
	err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db, err := sql.Open("postgres", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if !o.appendRows {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) u`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errors.New("the database already has users; use a fresh one or -append")
		}
	}
	g := newGen(o.seed, time.Now())
	hash, err := bcrypt.GenerateFromPassword([]byte(o.password), o.bcryptCost)
	if err != nil {
		return err
	}
	start := time.Now()
	ids, err := seedUsers(ctx, db, g, o, string(hash))
	if err != nil {
		return err
	}
	log.Info("users seeded", "rows", len(ids), "elapsed", time.Since(start).Round(time.Millisecond))
	t := time.Now()
	if err := seedSessions(ctx, db, g, ids, o.sessions); err != nil {
		return err
	}
	log.Info("sessions seeded", "rows", o.sessions, "elapsed", time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := seedAudit(ctx, db, g, ids, o.audit); err != nil {
		return err
	}
	log.Info("audit events seeded", "rows", o.audit, "elapsed", time.Since(t).Round(time.Millisecond))
	if o.adminEmail != "" {
		if err := seedAdmin(ctx, db, g, o); err != nil {
			return err
		}
	}
	// Fresh statistics, so the planner sees the tables as they now are.
	if _, err := db.ExecContext(ctx, `ANALYZE users, sessions, audit_events, user_roles`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	log.Info("seeded", "users", len(ids), "sessions", o.sessions, "audit_events", o.audit, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// gen spreads seeded times and picks users, reproducibly for one seed.
type gen struct {
	r   *rand.Rand
	now time.Time
}

func newGen(seed uint64, now time.Time) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now}
}

// within returns a time in the last d, uniformly, in Unix microseconds
// (the schema's encoding).
func (g *gen) within(d time.Duration) int64 {
	return g.now.Add(-time.Duration(g.r.Int64N(int64(d)))).UnixMicro()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

const day = 24 * time.Hour

// copyRows runs one COPY of n rows into table in a transaction; row
// returns the values of row i.
func copyRows(ctx context.Context, db *sql.DB, table string, cols []string, n int, row func(i int) []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	for i := range n {
		if _, err := st.ExecContext(ctx, row(i)...); err != nil {
			return fmt.Errorf("copy %s row %d: %w", table, i, err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return tx.Commit()
}

func seedUsers(ctx context.Context, db *sql.DB, g *gen, o options, hash string) ([]string, error) {
	ids := make([]string, o.users)
	prefix := randomHex(3)
	err := copyRows(ctx, db, "users", []string{"id", "email", "password_hash", "email_verified", "created_at", "updated_at", "last_login_at"}, o.users,
		func(i int) []any {
			ids[i] = uuid.NewString()
			created := g.within(3 * 365 * day)
			return []any{ids[i], fmt.Sprintf("seed-%s-%07d@example.com", prefix, i), hash, i%10 != 0, created, created, g.within(30 * day)}
		})
	return ids, err
}

var userAgents = []string{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "okhttp/4.12.0", "authd-cli/1"}

func seedSessions(ctx context.Context, db *sql.DB, g *gen, users []string, n int) error {
	return copyRows(ctx, db, "sessions", []string{"id", "user_id", "client_id", "user_agent", "ip", "refresh_jti",
		"refresh_issued_at", "expires_at", "created_at", "last_refreshed_at"}, n,
		func(i int) []any {
			created := g.within(30 * day)
			refreshed := created + g.r.Int64N(max(g.now.UnixMicro()-created, 1))
			return []any{uuid.NewString(), users[g.r.IntN(len(users))], "authd", userAgents[i%len(userAgents)],
				fmt.Sprintf("198.51.100.%d", i%250+1), randomHex(16), refreshed, created + (720 * time.Hour).Microseconds(), created, refreshed}
		})
}

var auditKinds = []struct{ typ, outcome, detail string }{
	{"login", "success", ""}, {"login", "success", ""}, {"refresh", "success", ""}, {"refresh", "success", ""},
	{"refresh", "success", ""}, {"login", "failure", "invalid_credentials"}, {"logout", "success", ""},
	{"password_change", "success", ""},
}

func seedAudit(ctx context.Context, db *sql.DB, g *gen, users []string, n int) error {
	// Inserted oldest first, as a live service appends them: id order is at
	// order, which the purge and the pages both rely on being cheap.
	ats := make([]int64, n)
	for i := range ats {
		ats[i] = g.within(500 * day)
	}
	slices.Sort(ats)
	return copyRows(ctx, db, "audit_events", []string{"at", "type", "outcome", "user_id", "ip", "user_agent", "detail"}, n,
		func(i int) []any {
			k := auditKinds[i%len(auditKinds)]
			return []any{ats[i], k.typ, k.outcome, users[g.r.IntN(len(users))], fmt.Sprintf("203.0.113.%d", i%250+1),
				userAgents[i%len(userAgents)], k.detail}
		})
}

func seedAdmin(ctx context.Context, db *sql.DB, g *gen, o options) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(o.adminPassword), o.bcryptCost)
	if err != nil {
		return err
	}
	id, now := uuid.NewString(), g.now.UnixMicro()
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, email_verified, created_at, updated_at)
		VALUES ($1, $2, $3, true, $4, $4)`, id, o.adminEmail, string(hash), now); err != nil {
		return fmt.Errorf("admin user: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, 'admin', $2)`, id, now); err != nil {
		return fmt.Errorf("admin role: %w", err)
	}
	return nil
}
