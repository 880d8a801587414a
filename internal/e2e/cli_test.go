package e2e_test

import (
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
	bin := buildBinary(t)
	dir := t.TempDir()
	env := append(os.Environ(), "AUTHD_DATA_DIR="+dir, "AUTHD_BCRYPT_COST=10", "AUTHD_LOG_LEVEL=error",
		"AUTHD_DATABASE_URL=", "AUTHD_REDIS_URL=", "AUTHD_MASTER_KEY=", "AUTHD_METRICS_ADDR=", "AUTHD_ADDR=127.0.0.1:0")
	c := cli{t: t, bin: bin, env: env}

	cfg := testConfig()
	cfg.DataDir = dir
	s := start(t, cfg, newClock())

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
