package e2e_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/testenv"
)

// mirrorConfig is the Postgres + Redis backend with
// AUTHD_REVOCATION_MIRROR on and introspection enabled.
func mirrorConfig(t testing.TB) config.Config {
	t.Helper()
	cfg := testConfig()
	for _, b := range backends {
		if b.name == "postgres+redis" {
			b.configure(t, &cfg)
		}
	}
	if cfg.RedisURL == "" {
		t.Fatal("no postgres+redis backend")
	}
	cfg.RevocationMirror = true
	withGateway(&cfg)
	return cfg
}

// introspect asks /v1/introspect about tok as the configured gateway.
func (s *server) introspect(tok string) response {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/v1/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("kong", introspectionSecret)
	resp, err := httpClient.Do(req)
	if err != nil {
		s.t.Fatalf("introspect: %v", err)
	}
	return readResponse(s.t, resp)
}

// TestRevocationMirror runs two authd replicas on one Postgres and one
// Redis with the mirror on: the replica that takes a logout refuses the
// token as soon as the logout returns, and the other within the mirror's
// staleness bound (1 s).
func TestRevocationMirror(t *testing.T) {
	cfg := mirrorConfig(t)
	clk := newClock()
	a := start(t, cfg, clk)
	cfgB := cfg
	cfgB.DataDir = t.TempDir()
	b := start(t, cfgB, clk)

	for name, s := range map[string]*server{"a": a, "b": b} {
		if r := s.get("/readyz", ""); r.Status != http.StatusOK {
			t.Fatalf("replica %s: readyz %d %s", name, r.Status, r.Body)
		}
		if m := scrape(t, s); !strings.Contains(m, "authd_denylist_mirror_synced 1") {
			t.Fatalf("replica %s: mirror not reported in sync:\n%s", name, m)
		}
	}

	tk := a.signedUp("mira@example.com")
	for name, s := range map[string]*server{"a": a, "b": b} {
		if r := s.get("/v1/verify", tk.AccessToken); r.Status != http.StatusOK {
			t.Fatalf("replica %s: verify before logout: %d %s", name, r.Status, r.Body)
		}
	}

	t.Run("checks are answered from memory", func(t *testing.T) {
		// An entry written into Redis by hand publishes no event, so the
		// mirror does not learn it; a Redis check (MGET) would refuse
		// the token.
		other := a.login("mira@example.com", "correct horse battery")
		client, _ := testenv.Redis(t)
		key := cfg.RedisKeyPrefix + "jti:" + claims(t, other.AccessToken)["jti"].(string)
		if err := client.Set(t.Context(), key, "1", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if r := a.get("/v1/verify", other.AccessToken); r.Status != http.StatusOK {
			t.Fatalf("verify: %d %s: the check went to Redis", r.Status, r.Body)
		}
	})

	if r := a.logout(tk.AccessToken, ""); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	loggedOut := time.Now()

	// Read your writes: the replica that took the logout, at once.
	a.get("/v1/verify", tk.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
	a.get("/v1/me", tk.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
	if r := a.introspect(tk.AccessToken); r.Status != http.StatusOK || string(r.Body) != `{"active":false}` {
		t.Fatalf("introspect after logout: %d %s", r.Status, r.Body)
	}

	// The other replica: within the staleness bound.
	for {
		sent := time.Now()
		r := b.get("/v1/verify", tk.AccessToken)
		if r.Status == http.StatusUnauthorized {
			t.Logf("replica b refused the token %s after the logout returned", time.Since(loggedOut).Round(time.Microsecond))
			break
		}
		if sent.Sub(loggedOut) > time.Second {
			t.Fatalf("replica b still answers %d %s more than 1s after the logout", r.Status, r.Body)
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.get("/v1/me", tk.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")

	// And the other way round: a session ended on b is refused by a.
	c := b.login("mira@example.com", "correct horse battery")
	if r := b.logout(c.AccessToken, "global"); r.Status != http.StatusNoContent {
		t.Fatalf("global logout on b: %d %s", r.Status, r.Body)
	}
	b.get("/v1/verify", c.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
	deadline := time.Now().Add(time.Second)
	for a.get("/v1/verify", c.AccessToken).Status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("replica a still accepts a token of a user logged out globally on b after 1s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRevocationMirrorFailsClosed: with Redis gone the mirror cannot vouch
// for its copy, so checks answer 503 (never 200) once the staleness bound
// has run out, and /readyz says not ready.
func TestRevocationMirrorFailsClosed(t *testing.T) {
	cfg, stopRedis := privateRedisConfig(t)
	cfg.RevocationMirror = true
	withGateway(&cfg)
	s := start(t, cfg, newClock())
	tk := s.signedUp("noor@example.com")
	if r := s.get("/v1/verify", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}

	stopRedis()
	stopped := time.Now()

	for {
		sent := time.Now()
		r := s.get("/v1/verify", tk.AccessToken)
		if r.Status == http.StatusServiceUnavailable {
			t.Logf("verify failed closed %s after Redis stopped", time.Since(stopped).Round(time.Millisecond))
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			break
		}
		if r.Status != http.StatusOK {
			t.Fatalf("verify with Redis gone: %d %s", r.Status, r.Body)
		}
		if sent.Sub(stopped) > time.Second {
			t.Fatal("verify still answers 200 more than the staleness bound (1s) after Redis stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.get("/v1/me", tk.AccessToken).wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	if r := s.introspect(tk.AccessToken); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("introspect with the mirror out of sync: %d %s", r.Status, r.Body)
	}
	if r := s.get("/readyz", ""); r.Status != http.StatusServiceUnavailable || !bytes.Contains(r.Body, []byte("denylist")) {
		t.Fatalf("readyz with the mirror out of sync: %d %s", r.Status, r.Body)
	}
	m := scrape(t, s)
	for _, want := range []string{"authd_denylist_mirror_synced 0", `authd_dependency_errors_total{dependency="denylist"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// BenchmarkVerifyEndpointMirror is BenchmarkVerifyEndpoint on Postgres +
// Redis with AUTHD_REVOCATION_MIRROR on: the check is a map look-up
// instead of an MGET.
//
//	go test ./internal/e2e -run '^$' -bench VerifyEndpoint -benchtime 5s
func BenchmarkVerifyEndpointMirror(b *testing.B) {
	benchmarkVerifyEndpoint(b, mirrorConfig(b))
}
