package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware/middlewaretest"
)

// TestService runs the example's own wiring against a fake authd over
// loopback and the real Redis denylist.
func TestService(t *testing.T) {
	authd := middlewaretest.Start(t)
	client, prefix := testenv.Redis(t)
	env := map[string]string{
		"AUTHD_ISSUER":           authd.URL,
		"AUTHD_REDIS_URL":        testenv.RedisURL(),
		"AUTHD_REDIS_KEY_PREFIX": prefix,
	}
	v, closeAll, err := newVerifier(func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	srv := httptest.NewServer(routes(v))
	defer srv.Close()

	user, _ := authd.Token(t, "user")
	admin, _ := authd.Token(t, "user", "admin")
	revoked, jti := authd.Token(t, "admin")
	if err := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix)).RevokeToken(t.Context(), "user-1", jti, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, token string
		status      int
	}{
		{"/healthz", "", 200},
		{"/hello", "", 401},
		{"/hello", user, 200},
		{"/admin", user, 403},
		{"/admin", admin, 200},
		{"/admin", revoked, 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: %d %s, want %d", tt.path, resp.StatusCode, body, tt.status)
		}
	}
}

func TestIssuerRequired(t *testing.T) {
	if _, _, err := newVerifier(func(string) string { return "" }, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("no error without AUTHD_ISSUER")
	}
}
