package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/testenv"
)

// Users move from SQLite to MariaDB through users export and users import
// and log in there with the passwords they had; roles, verification,
// disabling and creation times move with them.
func TestUsersExportImportAcrossBackends(t *testing.T) {
	target := testenv.MySQL(t)
	t.Setenv("AUTHD_DATA_DIR", t.TempDir())
	t.Setenv("AUTHD_DATABASE_URL", "")
	t.Setenv("AUTHD_LOG_LEVEL", "error")
	t.Setenv("AUTHD_BCRYPT_COST", "10")
	t.Setenv("AUTHD_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)

	users := map[string]string{"ann@example.com": "correct horse battery", "bob@example.com": "staple tuna gravy", "cy@example.com": "kettle violin marsh"}
	created := map[string]time.Time{}
	openApp := func() *app.App {
		t.Helper()
		cfg, err := config.FromEnvironment("")
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Open(ctx, cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	src := openApp()
	for email, pw := range users {
		u, err := src.Service().Register(ctx, email, pw, auth.Device{})
		if err != nil {
			t.Fatalf("Register %s: %v", email, err)
		}
		created[email] = u.CreatedAt
		switch email {
		case "ann@example.com":
			if err := src.Service().GrantRole(ctx, auth.Actor{}, u.ID, "editor"); err != nil {
				t.Fatal(err)
			}
		case "cy@example.com":
			if err := src.Service().DisableUser(ctx, auth.Actor{}, u.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	src.Close()

	var out, errb bytes.Buffer
	if code := run(ctx, []string{"users", "export"}, &out, &errb); code != 0 {
		t.Fatalf("users export: exit %d: %s", code, errb.String())
	}
	if got := strings.Count(out.String(), "\n"); got != len(users) {
		t.Fatalf("export wrote %d lines, want %d:\n%s", got, len(users), out.String())
	}
	if !strings.Contains(errb.String(), "exported 3 users") {
		t.Errorf("stderr %q", errb.String())
	}
	file := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv("AUTHD_DATABASE_URL", target)
	var iout bytes.Buffer
	errb.Reset()
	if code := run(ctx, []string{"users", "import", file}, &iout, &errb); code != 0 {
		t.Fatalf("users import: exit %d: %s %s", code, iout.String(), errb.String())
	}
	if !strings.Contains(iout.String(), "imported 3 users, skipped 0") {
		t.Fatalf("import: %q", iout.String())
	}

	dst := openApp()
	defer dst.Close()
	for email, pw := range users {
		tok, err := dst.Service().Login(ctx, email, pw, auth.Device{})
		if email == "cy@example.com" {
			if err == nil {
				t.Errorf("disabled %s logged in on the target", email)
			}
			continue
		}
		if err != nil || tok == nil {
			t.Fatalf("Login %s on the target: %v", email, err)
		}
		u, err := dst.Store().UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if !u.CreatedAt.Equal(created[email].UTC().Truncate(time.Microsecond)) {
			t.Errorf("%s created %v on the target, %v on the source", email, u.CreatedAt, created[email])
		}
		if email == "ann@example.com" && (len(u.Roles) != 1 || u.Roles[0] != "editor") {
			t.Errorf("ann's roles on the target: %v", u.Roles)
		}
	}
	if _, err := dst.Service().Login(ctx, "bob@example.com", "wrong password!", auth.Device{}); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("a wrong password logged in: %v", err)
	}
}
