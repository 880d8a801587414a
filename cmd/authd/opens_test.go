package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
)

// opened is what one case of TestAdminCommandsOpenOnlyWhatTheyUse left
// behind: the command's output, the data dir, the store and Redis.
type opened struct {
	t          *testing.T
	out        string
	dir        string
	store      store.Store
	redis      *redis.Client
	prefix     string
	user       string // ann's user id
	client     string // the client's id
	importFile string
}

// redisKeys lists the keys the command left under the case's prefix.
func (o opened) redisKeys() []string {
	keys, err := o.redis.Keys(o.t.Context(), o.prefix+"*").Result()
	if err != nil {
		o.t.Fatal(err)
	}
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], o.prefix)
	}
	slices.Sort(keys)
	return keys
}

// TestAdminCommandsOpenOnlyWhatTheyUse runs every admin command on a
// configuration in which one part it does not use cannot open (TLS, the
// signing keys, mail, the metrics listener), on real SQLite and Redis.
// Each command succeeds and does its job unless the broken part is one it
// uses, in which case it fails as serve does; serve refuses every broken
// configuration. A command that does not revoke leaves Redis untouched.
func TestAdminCommandsOpenOnlyWhatTheyUse(t *testing.T) {
	// Held open: a metrics listener on its address cannot start.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	breaks := []struct {
		name string
		// part is what cannot open; serveErr is how serve (and a command
		// that uses the part) says so. Empty: nothing is broken.
		part, serveErr string
		apply          func(t *testing.T, dir string)
	}{
		{name: "nothing broken", apply: func(*testing.T, string) {}},
		{name: "TLS files missing", part: "tls", serveErr: "AUTHD_TLS_CERT/AUTHD_TLS_KEY", apply: func(t *testing.T, dir string) {
			t.Setenv("AUTHD_TLS_CERT", filepath.Join(dir, "missing-cert.pem"))
			t.Setenv("AUTHD_TLS_KEY", filepath.Join(dir, "missing-key.pem"))
		}},
		{name: "master key file corrupt", part: "keys", serveErr: "not the base64 encoding of 32 bytes", apply: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "mail templates dir missing", part: "mail", serveErr: "AUTHD_MAIL_TEMPLATES_DIR", apply: func(t *testing.T, dir string) {
			t.Setenv("AUTHD_MAIL_TEMPLATES_DIR", filepath.Join(dir, "no-templates"))
		}},
		{name: "metrics address taken", part: "metrics", serveErr: "metrics listener", apply: func(t *testing.T, _ string) {
			t.Setenv("AUTHD_METRICS_ADDR", busy.Addr().String())
		}},
	}

	commands := []struct {
		name  string
		args  func(o opened) []string
		stdin string
		// uses are the breakable parts the command opens; revokes says it
		// writes to Redis.
		uses    []string
		revokes bool
		check   func(t *testing.T, o opened)
	}{
		{name: "users create", args: func(opened) []string { return []string{"users", "create", "new@example.com"} },
			stdin: "correct horse battery\n", uses: []string{"mail"},
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, "created new@example.com") {
					t.Errorf("output %q", o.out)
				}
				if _, err := o.store.UserByEmail(t.Context(), "new@example.com"); err != nil {
					t.Errorf("the user is not in the store: %v", err)
				}
				if mails, _ := filepath.Glob(filepath.Join(o.dir, "mail", "*.eml")); len(mails) != 1 {
					t.Errorf("verification mails written: %d, want 1", len(mails))
				}
			}},
		{name: "users disable", args: func(opened) []string { return []string{"users", "disable", "ann@example.com"} }, revokes: true,
			check: func(t *testing.T, o opened) {
				if u, err := o.store.UserByID(t.Context(), o.user); err != nil || !u.Disabled {
					t.Errorf("ann disabled = %v, %v", u.Disabled, err)
				}
				if keys := o.redisKeys(); !slices.Contains(keys, "{"+o.user+"}:cut") {
					t.Errorf("no cutoff for ann's live access tokens in Redis: %q", keys)
				}
				wantEvent(t, o, auth.EventUserDisabled)
			}},
		{name: "users enable", args: func(opened) []string { return []string{"users", "enable", "ann@example.com"} },
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, "enabled ann@example.com") {
					t.Errorf("output %q", o.out)
				}
				wantEvent(t, o, auth.EventUserEnabled)
			}},
		{name: "users grant", args: func(opened) []string { return []string{"users", "grant", "ann@example.com", "editor"} },
			check: func(t *testing.T, o opened) {
				if u, err := o.store.UserByID(t.Context(), o.user); err != nil || !slices.Equal(u.Roles, []string{"editor"}) {
					t.Errorf("ann's roles = %q, %v", u.Roles, err)
				}
			}},
		{name: "users import", args: func(o opened) []string { return []string{"users", "import", o.importFile} },
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, "imported 1 users, skipped 0") {
					t.Errorf("output %q", o.out)
				}
			}},
		{name: "users export", args: func(opened) []string { return []string{"users", "export"} },
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, `"email":"ann@example.com"`) {
					t.Errorf("output %q", o.out)
				}
			}},
		{name: "clients create", args: func(opened) []string { return []string{"clients", "create", "reports"} },
			check: func(t *testing.T, o opened) {
				var cs struct {
					ClientID     string `json:"client_id"`
					ClientSecret string `json:"client_secret"`
				}
				if err := json.Unmarshal([]byte(o.out), &cs); err != nil || !auth.IsClientID(cs.ClientID) || cs.ClientSecret == "" {
					t.Errorf("output %q: %v", o.out, err)
				}
			}},
		{name: "clients list", args: func(opened) []string { return []string{"clients", "list"} },
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, `"client_id":"`+o.client+`"`) {
					t.Errorf("output %q", o.out)
				}
			}},
		{name: "clients disable", args: func(o opened) []string { return []string{"clients", "disable", o.client} }, revokes: true,
			check: func(t *testing.T, o opened) {
				if c, err := o.store.ClientByID(t.Context(), o.client); err != nil || !c.Disabled {
					t.Errorf("client disabled = %v, %v", c.Disabled, err)
				}
				if keys := o.redisKeys(); !slices.Contains(keys, "{"+o.client+"}:cut") {
					t.Errorf("no cutoff for the client's tokens in Redis: %q", keys)
				}
			}},
		{name: "denylist rebuild", args: func(opened) []string { return []string{"denylist", "rebuild"} }, revokes: true,
			check: func(t *testing.T, o opened) {
				if !strings.Contains(o.out, "0 live revocations written") {
					t.Errorf("output %q", o.out)
				}
				if keys := o.redisKeys(); !slices.Contains(keys, "generation") {
					t.Errorf("no generation marker in Redis: %q", keys)
				}
			}},
		{name: "audit tail", args: func(opened) []string { return []string{"audit", "tail"} },
			check: func(t *testing.T, o opened) {
				if !strings.HasPrefix(o.out, "TIME") || !strings.Contains(o.out, auth.EventRegister) {
					t.Errorf("output %q", o.out)
				}
			}},
	}

	for _, br := range breaks {
		t.Run(br.name, func(t *testing.T) {
			if br.serveErr != "" {
				o := setUpAdminCase(t)
				br.apply(t, o.dir)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				if _, _, err := dispatch(ctx, "", "serve"); err == nil || !strings.Contains(err.Error(), br.serveErr) {
					t.Fatalf("serve = %v, want it refused with %q", err, br.serveErr)
				}
			}
			for _, cmd := range commands {
				t.Run(cmd.name, func(t *testing.T) {
					o := setUpAdminCase(t)
					br.apply(t, o.dir)
					out, errOut, err := dispatch(t.Context(), cmd.stdin, cmd.args(o)...)
					o.out = out
					if slices.Contains(cmd.uses, br.part) {
						if err == nil || !strings.Contains(err.Error(), br.serveErr) {
							t.Fatalf("err = %v, want the %s part refused with %q", err, br.part, br.serveErr)
						}
						return
					}
					if err != nil {
						t.Fatalf("err = %v; stderr %s", err, errOut)
					}
					cmd.check(t, o)
					if keys := o.redisKeys(); !cmd.revokes && len(keys) != 0 {
						t.Errorf("a command that revokes nothing wrote to Redis: %q", keys)
					}
				})
			}
		})
	}
}

// wantEvent asserts the audit trail holds an event of type typ.
func wantEvent(t *testing.T, o opened, typ string) {
	t.Helper()
	events, err := o.store.AuditEvents(t.Context(), store.AuditQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e store.AuditEvent) bool { return e.Type == typ }) {
		t.Errorf("no %s event on the audit trail", typ)
	}
}

// setUpAdminCase configures the CLI (SQLite in a fresh data dir, Redis
// under a fresh prefix) and seeds a user, ann@example.com, and a client.
func setUpAdminCase(t *testing.T) opened {
	rdb, prefix := testenv.Redis(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AUTHD_DATA_DIR": dir, "AUTHD_DATABASE_URL": "", "AUTHD_MASTER_KEY": "", "AUTHD_LOG_LEVEL": "error",
		"AUTHD_BCRYPT_COST": "10", "AUTHD_ADDR": "127.0.0.1:0", "AUTHD_METRICS_ADDR": "",
		"AUTHD_REDIS_URL": testenv.RedisURL(), "AUTHD_REDIS_KEY_PREFIX": prefix, "AUTHD_DENYLIST_LAYOUT": "v2",
		"AUTHD_REVOCATION_MIRROR": "true", "AUTHD_TLS_CERT": "", "AUTHD_TLS_KEY": "", "AUTHD_MAIL_TEMPLATES_DIR": "",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnvironment("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	seed, err := app.OpenAdmin(ctx, cfg, slog.New(slog.DiscardHandler), app.Needs{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := seed.Service().Register(ctx, "ann@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := seed.Service().CreateClient(ctx, auth.Actor{}, auth.NewClient{Name: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := filepath.Join(t.TempDir(), "users.jsonl")
	row := `{"email":"imported@example.com","password_hash":"` + u.PasswordHash + `"}` + "\n"
	if err := os.WriteFile(file, []byte(row), 0o600); err != nil {
		t.Fatal(err)
	}
	o := opened{t: t, dir: dir, store: st, redis: rdb, prefix: prefix, user: u.ID, client: cs.Client.ID, importFile: file}
	if keys := o.redisKeys(); len(keys) != 0 {
		t.Fatalf("seeding wrote to Redis: %q", keys)
	}
	return o
}

// dispatch runs one command as main does, with stdin, and returns what it
// printed.
func dispatch(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	c := &command{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	err = c.dispatch(ctx, args)
	return out.String(), errOut.String(), err
}
