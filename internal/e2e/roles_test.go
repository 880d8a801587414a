package e2e_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/pkg/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// insertRawRole writes a role straight into user_roles, around the store's
// checks, as a release before the role grammar could have. Those releases
// ran on SQLite and Postgres only; MySQL gets the same row through its own
// driver so the readers are checked there too. MongoDB had no release
// before the grammar, so no such document can exist: the caller skips.
func insertRawRole(t *testing.T, cfg config.Config, userID, role string) {
	t.Helper()
	driver, dsn, q := "sqlite", filepath.Join(cfg.DataDir, "authd.db")+"?_pragma=busy_timeout(5000)",
		`INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)`
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "mysql:"):
		var err error
		if dsn, err = sqlstore.MySQLDriverDSN(cfg.DatabaseURL); err != nil {
			t.Fatal(err)
		}
		driver = "mysql"
	case cfg.DatabaseURL != "":
		driver, dsn, q = "postgres", cfg.DatabaseURL, `INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3)`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), q, userID, role, time.Now().UnixMicro()); err != nil {
		t.Fatalf("insert role %q: %v", role, err)
	}
}

// Roles stored unchecked by an older release never reach a gateway:
// X-Auth-Roles and introspection carry only names of the grammar, so
// "viewer,admin" is not read as admin, and the valid roles still are.
func TestVerifyHeaderCarriesOnlyValidRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		if strings.HasPrefix(b.name, "mongodb") {
			t.Skip("no release before the role grammar ran on MongoDB: no unchecked role can be stored there")
		}
		cfg := testConfig()
		withGateway(&cfg)
		b.configure(t, &cfg)
		s := start(t, cfg, newClock())
		tk := s.signedUp("rita@example.com")
		sub := claims(t, tk.AccessToken)["sub"].(string)
		if err := s.App.Store().GrantRole(t.Context(), sub, "editor"); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"viewer,admin", "Ops Team", "x\ty"} {
			insertRawRole(t, cfg, sub, role)
		}
		tk = decodeTokens(t, s.refresh(tk.RefreshToken))
		if got := len(claims(t, tk.AccessToken)["roles"].([]any)); got != 4 {
			t.Fatalf("the token carries %d roles, want all 4 stored ones (the setup failed)", got)
		}
		r := s.get("/v1/verify", tk.AccessToken).want(t, http.StatusOK)
		if got := r.Header.Values("X-Auth-Roles"); len(got) != 1 || got[0] != "editor" {
			t.Fatalf("X-Auth-Roles = %q, want [editor]", got)
		}
		req, err := http.NewRequest("POST", s.URL+"/v1/introspect", strings.NewReader(url.Values{"token": {tk.AccessToken}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cfg.IntrospectionClientID, cfg.IntrospectionClientSecret)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		m := readResponse(t, resp).want(t, http.StatusOK).JSON(t)
		if roles, _ := m["roles"].([]any); m["active"] != true || len(roles) != 1 || roles[0] != "editor" {
			t.Fatalf("introspection = %v, want active with roles [editor]", m)
		}
	})
}

// A stored hash above the maximum cost (imported by an older release)
// answers like a wrong password, within the client's timeout, instead of
// running bcrypt for hours.
func TestLoginWithHashAboveMaxCost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		tk := s.signedUp("hugo@example.com")
		sub := claims(t, tk.AccessToken)["sub"].(string)
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		for _, cost := range []int{31, 20} {
			stored := fmt.Sprintf("%s%02d%s", h[:4], cost, h[6:])
			if err := s.App.Store().UpdatePasswordHash(context.Background(), sub, "bcrypt_sha256$"+stored); err != nil {
				t.Fatal(err)
			}
			s.postJSON("/v1/login", map[string]string{"email": "hugo@example.com", "password": pw}).
				wantError(t, http.StatusUnauthorized, "invalid_credentials")
			if err := s.App.Store().UpdatePasswordHash(context.Background(), sub, stored); err != nil {
				t.Fatal(err)
			}
			s.postJSON("/v1/login", map[string]string{"email": "hugo@example.com", "password": pw}).
				wantError(t, http.StatusUnauthorized, "invalid_credentials")
		}
	})
}
