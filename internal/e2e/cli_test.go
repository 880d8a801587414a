package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// cli runs the authd binary with a subcommand against the same data dir
// as a running server (SQLite is shared between processes).
type cli struct {
	t   *testing.T
	bin string
	env []string
}

// newEmbeddedCLI is a cli on the embedded default in dir, with a fast
// bcrypt cost and nothing listening that could clash with the server.
func newEmbeddedCLI(t *testing.T, dir string) cli {
	env := append(os.Environ(), "AUTHD_DATA_DIR="+dir, "AUTHD_BCRYPT_COST=10", "AUTHD_LOG_LEVEL=error",
		"AUTHD_DATABASE_URL=", "AUTHD_REDIS_URL=", "AUTHD_MASTER_KEY=", "AUTHD_METRICS_ADDR=", "AUTHD_ADDR=127.0.0.1:0")
	return cli{t: t, bin: buildBinary(t), env: env}
}

// startWithCLI runs authd on embedded storage of its own and returns the
// CLI working on the same data directory.
func startWithCLI(t *testing.T) (*server, cli) {
	t.Helper()
	dir := t.TempDir()
	c := newEmbeddedCLI(t, dir)
	cfg := testConfig()
	cfg.DataDir = dir
	return start(t, cfg, newClock()), c
}

func (c cli) run(stdin string, args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c cli) mustRun(stdin string, args ...string) string {
	c.t.Helper()
	out, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("authd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestCLIUsersAndKeys drives `authd users` and `authd keys` against a
// running server: the server sees what the CLI changed.
func TestCLIUsersAndKeys(t *testing.T) {
	s, c := startWithCLI(t)

	out := c.mustRun("correct horse battery\n", "users", "create", "Alice@Example.com")
	if !strings.Contains(out, "created alice@example.com") {
		t.Fatalf("create: %s", out)
	}
	if out, err := c.run("", "users", "create", "bob@example.com"); err == nil {
		t.Fatalf("create without a password on stdin succeeded: %s", out)
	}
	if out, err := c.run("short\n", "users", "create", "bob@example.com"); err == nil || !strings.Contains(out, "weak_password") {
		t.Fatalf("weak password accepted by the CLI: %v %s", err, out)
	}
	tk := s.login("alice@example.com", "correct horse battery")

	c.mustRun("", "users", "grant", "alice@example.com", "admin")
	if !contains(claims(t, s.login("alice@example.com", "correct horse battery").AccessToken)["roles"], "admin") {
		t.Fatal("granted role missing from a new token")
	}
	if out, err := c.run("", "users", "grant", "alice@example.com", "bad,role"); err == nil {
		t.Fatalf("invalid role accepted: %s", out)
	}

	c.mustRun("", "users", "disable", "alice@example.com")
	s.postJSON("/v1/login", map[string]string{"email": "alice@example.com", "password": "correct horse battery"}).
		wantError(t, http.StatusForbidden, "user_disabled")
	if r := s.refresh(tk.RefreshToken); r.Status == http.StatusOK {
		t.Fatal("a disabled user's session could still refresh")
	}
	c.mustRun("", "users", "enable", "alice@example.com")
	s.login("alice@example.com", "correct horse battery")

	// Import: a Django bcrypt_sha256 hash and a PHP $2y$ hash log in.
	h, _ := bcrypt.GenerateFromPassword([]byte("php password 1"), 10)
	php := "$2y$" + string(h)[4:]
	file := filepath.Join(t.TempDir(), "users.jsonl")
	data := `{"email":"carol@example.com","password_hash":"` + php + `","roles":["editor"]}` + "\n" +
		`{"email":"alice@example.com","password_hash":"` + php + `"}` + "\n" +
		`{"email":"dan@example.com","password_hash":"md5$x"}` + "\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out = c.mustRun("", "users", "import", file)
	if !strings.Contains(out, "imported 1 users, skipped 2") || !strings.Contains(out, "already exists") || !strings.Contains(out, "unsupported hash") {
		t.Fatalf("import report:\n%s", out)
	}
	if out := c.mustRun("", "users", "import", file); !strings.Contains(out, "imported 0 users") {
		t.Fatalf("second import not idempotent:\n%s", out)
	}
	imported := s.login("carol@example.com", "php password 1")
	if !contains(claims(t, imported.AccessToken)["roles"], "editor") {
		t.Fatal("imported role missing")
	}

	// Keys: a forced rotation is published at once and signs after the
	// publish-ahead window; the list shows both keys.
	out = c.mustRun("", "keys", "rotate")
	if !strings.Contains(out, "is published now and signs from") {
		t.Fatalf("keys rotate: %s", out)
	}
	if out := c.mustRun("", "keys", "list"); strings.Count(out, "\n") != 3 {
		t.Fatalf("keys list should show a header and 2 keys:\n%s", out)
	}
	// The rotation and the admin changes are on the audit trail.
	out = c.mustRun("", "audit", "tail", "-n", "50")
	for _, want := range []string{"key_rotation", "user_disabled", "user_enabled", "role_change"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit tail lacks %s:\n%s", want, out)
		}
	}
}

// TestCLIImportValidates: `users import` goes through the service. A row
// with a role outside the grammar or a hash above the maximum cost is
// skipped and reported by line; lower costs are counted; the import is on
// the audit trail with the CLI as its actor; grant refuses a bad name
// while revoke removes one an older release stored.
func TestCLIImportValidates(t *testing.T) {
	dir := t.TempDir()
	c := newEmbeddedCLI(t, dir)
	cfg := testConfig()
	cfg.DataDir = dir
	s := start(t, cfg, newClock())

	low, err := bcrypt.GenerateFromPassword([]byte("low cost password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	good, err := bcrypt.GenerateFromPassword([]byte("good cost password"), 10)
	if err != nil {
		t.Fatal(err)
	}
	relabel := func(cost int) string { return fmt.Sprintf("%s%02d%s", low[:4], cost, low[6:]) }
	rows := []string{
		`{"email":"low@example.com","password_hash":"` + string(low) + `"}`,
		`{"email":"smuggle@example.com","password_hash":"` + string(good) + `","roles":["viewer,admin"]}`,
		`{"email":"nul@example.com","password_hash":"` + string(good) + `","roles":["admin\u0000"]}`,
		`{"email":"slow@example.com","password_hash":"` + relabel(15) + `"}`,
		`{"email":"slower@example.com","password_hash":"bcrypt_sha256$` + relabel(31) + `"}`,
		`{"email":"ed@example.com","password_hash":"` + string(good) + `","roles":["editor"]}`,
	}
	file := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.mustRun("", "users", "import", file)
	for _, want := range []string{
		"imported 2 users, skipped 4", "1 imported hashes have a bcrypt cost below 10",
		`line 2 "smuggle@example.com": invalid role`, `line 3 "nul@example.com": invalid role "admin\x00"`,
		`line 4 "slow@example.com": bcrypt cost too high: cost 15, at most 14`,
		`line 5 "slower@example.com": bcrypt cost too high: cost 31, at most 14`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import report lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsRune(out, 0) {
		t.Errorf("the report carries a raw NUL:\n%q", out)
	}
	s.login("low@example.com", "low cost password")
	ed := s.login("ed@example.com", "good cost password")
	if r := s.get("/v1/verify", ed.AccessToken); r.Header.Get("X-Auth-Roles") != "editor" {
		t.Fatalf("X-Auth-Roles = %q, want editor", r.Header.Get("X-Auth-Roles"))
	}
	for _, email := range []string{"smuggle@example.com", "nul@example.com", "slow@example.com", "slower@example.com"} {
		s.postJSON("/v1/login", map[string]string{"email": email, "password": "good cost password"}).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}

	for _, role := range []string{"viewer,admin", "Admin", "a b"} {
		if out, err := c.run("", "users", "grant", "ed@example.com", role); err == nil {
			t.Errorf("grant of %q accepted: %s", role, out)
		}
	}
	sub := claims(t, ed.AccessToken)["sub"].(string)
	insertRawRole(t, cfg, sub, "viewer,admin")
	c.mustRun("", "users", "revoke", "ed@example.com", "viewer,admin")
	if u, err := s.App.Store().UserByID(t.Context(), sub); err != nil || len(u.Roles) != 1 || u.Roles[0] != "editor" {
		t.Fatalf("roles after revoking the old name = %q, %v; want [editor]", u.Roles, err)
	}

	out = c.mustRun("", "audit", "tail", "-n", "50")
	for _, want := range []string{"user_import", "authd-cli users import", "cost_too_high", "invalid_role", "grant:editor"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit tail lacks %s:\n%s", want, out)
		}
	}
}
