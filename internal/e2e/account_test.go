package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRegister(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)

		r := s.register("  Alice@Example.COM ", "correct horse battery")
		if r.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		if body["email"] != "alice@example.com" || body["email_verified"] != false || body["id"] == "" {
			t.Fatalf("unexpected body: %s", r.Body)
		}
		if _, err := time.Parse(time.RFC3339, body["created_at"].(string)); err != nil {
			t.Fatalf("created_at: %v", err)
		}
		if _, ok := body["password_hash"]; ok {
			t.Fatal("password hash leaked")
		}

		tests := []struct {
			name        string
			contentType string
			body        string
			status      int
			code        string
		}{
			{"taken email, other case", "application/json", `{"email":"ALICE@example.com","password":"correct horse battery"}`, 409, "email_taken"},
			{"bad json", "application/json", `{"email":`, 400, "invalid_request"},
			{"unknown field", "application/json", `{"email":"b@example.com","password":"correct horse battery","admin":true}`, 400, "invalid_request"},
			{"wrong type", "application/json", `{"email":1,"password":"x"}`, 400, "invalid_request"},
			{"trailing data", "application/json", `{"email":"b@example.com","password":"correct horse battery"} {}`, 400, "invalid_request"},
			{"empty body", "application/json", ``, 400, "invalid_request"},
			{"missing email", "application/json", `{"password":"correct horse battery"}`, 400, "invalid_request"},
			{"invalid email", "application/json", `{"email":"not-an-email","password":"correct horse battery"}`, 400, "invalid_request"},
			{"display name", "application/json", `{"email":"Bob <b@example.com>","password":"correct horse battery"}`, 400, "invalid_request"},
			{"short password", "application/json", `{"email":"b@example.com","password":"short"}`, 422, "weak_password"},
			{"seven code points", "application/json", `{"email":"b@example.com","password":"ééééééé"}`, 422, "weak_password"},
			{"over 72 bytes", "application/json", `{"email":"b@example.com","password":"` + strings.Repeat("a", 73) + `"}`, 422, "weak_password"},
			{"form content type", "application/x-www-form-urlencoded", `email=b@example.com`, 415, "invalid_request"},
			{"huge body", "application/json", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s.do("POST", "/v1/register", tt.contentType, tt.body, nil).wantError(t, tt.status, tt.code)
			})
		}
		// The 72-byte message says why, so users are not left guessing.
		r = s.postJSON("/v1/register", map[string]string{"email": "c@example.com", "password": strings.Repeat("é", 40)})
		if !strings.Contains(r.str(t, "error_description"), "72 bytes") {
			t.Fatalf("weak_password description should name the 72-byte limit: %s", r.Body)
		}
	})
}

func TestLoginAndMe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		s.register("bob@example.com", "correct horse battery")

		r := s.postJSON("/v1/login", map[string]string{"email": "BOB@example.com ", "password": "correct horse battery"})
		if r.Status != http.StatusOK {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control = %q, want no-store", cc)
		}
		tk := decodeTokens(t, r)
		if tk.ExpiresIn != int64(s.Config.AccessTTL/time.Second) || tk.RefreshExpiresIn != int64(s.Config.RefreshTTL/time.Second) {
			t.Fatalf("expires_in %d / refresh_expires_in %d", tk.ExpiresIn, tk.RefreshExpiresIn)
		}

		// RFC 9068 access token shape.
		h, c := header(t, tk.AccessToken), claims(t, tk.AccessToken)
		if h["typ"] != "at+jwt" || h["alg"] != "ES256" || h["kid"] == "" {
			t.Fatalf("access header: %v", h)
		}
		for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "sid", "client_id"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("access token lacks %q: %v", k, c)
			}
		}
		if c["iss"] != s.Config.Issuer || c["client_id"] != "authd" {
			t.Fatalf("claims: %v", c)
		}
		if rh := header(t, tk.RefreshToken); rh["typ"] != "refresh+jwt" {
			t.Fatalf("refresh header: %v", rh)
		}
		if rc := claims(t, tk.RefreshToken); rc["aud"] != s.Config.Issuer && !contains(rc["aud"], s.Config.Issuer) {
			t.Fatalf("refresh aud must be the issuer: %v", rc["aud"])
		}

		me := s.get("/v1/me", tk.AccessToken)
		if me.Status != http.StatusOK {
			t.Fatalf("me: %d %s", me.Status, me.Body)
		}
		mb := me.JSON(t)
		if mb["email"] != "bob@example.com" || mb["id"] != c["sub"] || mb["email_verified"] != false {
			t.Fatalf("me body: %s", me.Body)
		}
		if roles, ok := mb["roles"].([]any); !ok || len(roles) != 0 {
			t.Fatalf("roles should be an empty array: %s", me.Body)
		}

		// Unknown email and wrong password answer identically.
		wrong := s.postJSON("/v1/login", map[string]string{"email": "bob@example.com", "password": "wrong horse battery"})
		unknown := s.postJSON("/v1/login", map[string]string{"email": "nobody@example.com", "password": "wrong horse battery"})
		wrong.wantError(t, 401, "invalid_credentials")
		unknown.wantError(t, 401, "invalid_credentials")
		if string(wrong.Body) != string(unknown.Body) {
			t.Fatalf("bodies differ: %s vs %s", wrong.Body, unknown.Body)
		}
		s.postJSON("/v1/login", map[string]string{"email": "bob@example.com"}).wantError(t, 400, "invalid_request")
		s.do("POST", "/v1/login", "text/plain", "x", nil).wantError(t, 415, "invalid_request")
	})
}

func contains(v any, s string) bool {
	arr, _ := v.([]any)
	for _, x := range arr {
		if x == s {
			return true
		}
	}
	return false
}

func TestMeRejectsBadTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		clk := newClock()
		s := start(t, cfg, clk)
		tk := s.signedUp("carol@example.com")

		// No token: a bare challenge, no error code in the header.
		r := s.get("/v1/me", "")
		if r.Status != 401 || r.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("no token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		parts := strings.Split(tk.AccessToken, ".")
		bad := map[string]string{
			"garbage":           "not-a-jwt",
			"refresh as access": tk.RefreshToken,
			"stripped sig":      parts[0] + "." + parts[1] + ".",
			"tampered payload":  parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2],
			"alg none":          "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".",
		}
		for name, raw := range bad {
			t.Run(name, func(t *testing.T) {
				r := s.get("/v1/me", raw)
				r.wantError(t, 401, "invalid_token")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
					t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
			})
		}
		r = s.do("GET", "/v1/me", "", "", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"})
		r.wantError(t, 401, "invalid_token")

		// Expired: past exp plus leeway.
		clk.Advance(cfg.AccessTTL + cfg.Leeway + time.Second)
		s.get("/v1/me", tk.AccessToken).wantError(t, 401, "invalid_token")
	})
}

func TestRolesAppearInTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		tk := s.signedUp("dave@example.com")
		sub := claims(t, tk.AccessToken)["sub"].(string)
		if err := s.App.Store().GrantRole(context.Background(), sub, "admin"); err != nil {
			t.Fatal(err)
		}
		// Roles are read at refresh, so a grant shows on the next token.
		r := s.refresh(tk.RefreshToken)
		if r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		next := decodeTokens(t, r)
		if !contains(claims(t, next.AccessToken)["roles"], "admin") {
			t.Fatalf("roles claim: %v", claims(t, next.AccessToken)["roles"])
		}
		if me := s.get("/v1/me", next.AccessToken).JSON(t); !contains(me["roles"], "admin") {
			t.Fatalf("me roles: %v", me["roles"])
		}
	})
}
