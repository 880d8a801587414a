package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware/middlewaretest"
	"github.com/redis/go-redis/v9"
)

// TestService runs the example's own wiring against a fake authd over
// loopback and the real Redis denylist.
func TestService(t *testing.T) {
	client, prefix := testenv.Redis(t)
	testService(t, testenv.RedisURL(), client, prefix, "")
}

// TestServiceTopologies: the example reads the cluster and sentinel forms
// of AUTHD_REDIS_URL and refuses a token authd revoked there, with either
// key layout.
func TestServiceTopologies(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	sentinel := testenv.RedisSentinel(t)
	for _, tc := range []struct {
		name   string
		url    string
		client redis.UniversalClient
	}{
		{"cluster", cluster.URL, cluster.Client(t)},
		{"sentinel", sentinel.URL, sentinel.Client(t)},
	} {
		for _, layout := range []string{"v1+v2", "v2"} {
			t.Run(tc.name+"/"+layout, func(t *testing.T) {
				testService(t, tc.url, tc.client, testenv.RandomName("authdtest:")+":", layout)
			})
		}
	}
}

// TestBadRedisURL: a malformed URL is refused, naming the variable.
func TestBadRedisURL(t *testing.T) {
	env := map[string]string{"AUTHD_ISSUER": "http://127.0.0.1:1", "AUTHD_REDIS_URL": "redis+sentinel://s1:26379"}
	_, _, err := newVerifier(func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err == nil || !strings.HasPrefix(err.Error(), "AUTHD_REDIS_URL: ") {
		t.Fatalf("newVerifier = %v, want an AUTHD_REDIS_URL error", err)
	}
}

func testService(t *testing.T, url string, client redis.UniversalClient, prefix, layout string) {
	authd := middlewaretest.Start(t)
	env := map[string]string{
		"AUTHD_ISSUER":           authd.URL,
		"AUTHD_REDIS_URL":        url,
		"AUTHD_REDIS_KEY_PREFIX": prefix,
		"AUTHD_DENYLIST_LAYOUT":  layout,
	}
	writerLayout := denylist.LayoutV1V2
	if layout == "v2" {
		writerLayout = denylist.LayoutV2
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
	if err := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(writerLayout)).RevokeToken(t.Context(), "user-1", jti, time.Now().Add(time.Hour)); err != nil {
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
