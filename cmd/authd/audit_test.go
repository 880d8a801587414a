package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

func TestAuditTail(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AUTHD_DATA_DIR", dir)
	t.Setenv("AUTHD_DATABASE_URL", "")
	t.Setenv("AUTHD_LOG_LEVEL", "error")
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "authd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	err = st.AppendAuditEvents(ctx, []store.AuditEvent{
		{At: at, Type: "register", Outcome: "success", UserID: "u1", IP: "192.0.2.1", UserAgent: "app/1"},
		{At: at.Add(time.Second), Type: "login", Outcome: "failure", Detail: "invalid_credentials", UserID: "u2", IP: "192.0.2.2",
			UserAgent: "evil\x1b[2J\tagent\n"},
		{At: at.Add(2 * time.Second), Type: "login", Outcome: "success", UserID: "u1", SessionID: "s1", IP: "192.0.2.1"},
		{At: at.Add(3 * time.Second), Type: "user_disabled", Outcome: "success", UserID: "u2", ActorID: "admin-7", IP: "192.0.2.9"},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	tail := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"audit", "tail"}, args...), &out, &errb)
		return out.String() + errb.String(), code
	}
	out, code := tail("-n", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[0], "ACTOR") ||
		!strings.Contains(lines[1], "invalid_credentials") || !strings.Contains(lines[2], "s1") {
		t.Fatalf("tail -n 3 (exit %d):\n%s", code, out)
	}
	// The admin who acted is its own column, after the target user.
	if f := strings.Fields(lines[3]); len(f) < 7 || f[1] != "user_disabled" || f[4] != "u2" || f[5] != "admin-7" {
		t.Fatalf("the actor is not printed after the user: %q", lines[3])
	}
	if f := strings.Fields(lines[2]); len(f) < 6 || f[5] != "-" {
		t.Fatalf("an event without an actor shows %q, want -", lines[2])
	}
	if strings.ContainsAny(out, "\x1b\t") || !strings.Contains(lines[1], "evil?[2J?agent?") {
		t.Fatalf("control characters reached the terminal:\n%q", out)
	}
	out, code = tail("--user", "u1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 3 || strings.Contains(out, "u2") ||
		!strings.Contains(lines[1], "2030-01-02T03:04:05Z") {
		t.Fatalf("tail --user u1 (exit %d):\n%s", code, out)
	}
	for _, bad := range [][]string{{"-n", "0"}, {"-n", "5000"}, {"extra"}} {
		if _, code := tail(bad...); code != 2 {
			t.Errorf("audit tail %v: exit %d, want 2", bad, code)
		}
	}
	var out2, errb bytes.Buffer
	if code := run(ctx, []string{"audit"}, &out2, &errb); code != 2 {
		t.Errorf("audit without tail: exit %d", code)
	}
}
