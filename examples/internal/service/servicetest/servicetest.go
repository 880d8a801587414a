// Package servicetest is the examples' shared test: it runs an example's
// routes, behind the verifier its environment describes, against a fake
// authd (pkg/middleware/middlewaretest) and a real Redis denylist.
package servicetest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authd/authd/examples/internal/service"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware/middlewaretest"
	"github.com/redis/go-redis/v9"
)

// Redis is where authd's denylist lives for the test.
type Redis struct {
	URL    string                // AUTHD_REDIS_URL
	Client redis.UniversalClient // the test's own client to it, to revoke a token as authd would
	Prefix string                // AUTHD_REDIS_KEY_PREFIX
	Layout string                // AUTHD_DENYLIST_LAYOUT; "" for the default
}

// Check serves routes and asks it for /healthz, /hello and /admin with no
// token, a user's, an admin's and a revoked admin's, as an example's
// README promises.
func Check(t *testing.T, routes service.Routes, rdb Redis) {
	t.Helper()
	authd := middlewaretest.Start(t)
	env := map[string]string{
		"AUTHD_ISSUER":           authd.URL,
		"AUTHD_REDIS_URL":        rdb.URL,
		"AUTHD_REDIS_KEY_PREFIX": rdb.Prefix,
		"AUTHD_DENYLIST_LAYOUT":  rdb.Layout,
	}
	writerLayout := denylist.LayoutV1V2
	if rdb.Layout == "v2" {
		writerLayout = denylist.LayoutV2
	}
	v, closeAll, err := service.NewVerifier(func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	srv := httptest.NewServer(routes(v))
	defer srv.Close()

	user, _ := authd.Token(t, "user")
	admin, _ := authd.Token(t, "user", "admin")
	revoked, jti := authd.Token(t, "admin")
	dl := denylist.NewRedis(rdb.Client, denylist.WithKeyPrefix(rdb.Prefix), denylist.WithLayout(writerLayout))
	if err := dl.RevokeToken(t.Context(), "user-1", jti, time.Now().Add(time.Hour)); err != nil {
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
