package e2e_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// storeErrors reads authd_dependency_errors_total{dependency="store"}.
func storeErrors(t *testing.T, s *server) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^authd_dependency_errors_total\{dependency="store"\} (\d+)$`).FindStringSubmatch(scrape(t, s))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStoreOutageIs503 takes Postgres away from a running authd (a proxy
// between them is cut): every endpoint that needs the store answers 503
// temporarily_unavailable with Retry-After, never 500, within the client's
// timeout, and counts it; /v1/verify keeps working. When the proxy is
// restored the same process serves again, without a restart.
func TestStoreOutageIs503(t *testing.T) {
	cfg := testConfig()
	backends[1].configure(t, &cfg)
	dsn, proxy := testenv.ProxyDSN(t, cfg.DatabaseURL)
	cfg.DatabaseURL = dsn
	s := start(t, cfg, newClock())
	const pw = "correct horse battery"
	tk := s.signedUp("nadia@example.com")
	other := s.login("nadia@example.com", pw)
	sid, _ := claims(t, other.AccessToken)["sid"].(string)

	proxy.Cut()
	before := storeErrors(t, s)
	bearer := map[string]string{"Authorization": "Bearer " + tk.AccessToken}
	calls := []struct {
		name string
		do   func() response
	}{
		{"login", func() response {
			return s.postJSON("/v1/login", map[string]string{"email": "nadia@example.com", "password": pw})
		}},
		{"register", func() response {
			return s.postJSON("/v1/register", map[string]string{"email": "omar@example.com", "password": pw})
		}},
		{"refresh", func() response { return s.refresh(tk.RefreshToken) }},
		{"logout", func() response { return s.logout(tk.AccessToken, "") }},
		{"logout global", func() response { return s.logout(tk.AccessToken, "global") }},
		{"me", func() response { return s.get("/v1/me", tk.AccessToken) }},
		{"sessions", func() response { return s.get("/v1/sessions", tk.AccessToken) }},
		{"revoke session", func() response { return s.do("DELETE", "/v1/sessions/"+sid, "", "", bearer) }},
		{"password change", func() response {
			return s.do("POST", "/v1/password/change", "application/json",
				`{"current_password":"correct horse battery","new_password":"another horse battery"}`, bearer)
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := c.do()
			r.wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
			if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("Retry-After = %q, want whole seconds >= 1", r.Header.Get("Retry-After"))
			}
			if strings.Contains(string(r.Body), "dial") || strings.Contains(string(r.Body), "EOF") {
				t.Errorf("the body leaks the driver error: %s", r.Body)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v with the store down, want a fast answer", d)
			}
		})
	}
	if after := storeErrors(t, s); after < before+len(calls) {
		t.Errorf("store dependency errors %d -> %d, want at least %d more", before, after, len(calls))
	}
	if r := s.get("/v1/verify", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("verify with the store down: %d %s", r.Status, r.Body)
	}

	proxy.Restore()
	again := s.login("nadia@example.com", pw)
	if r := s.refresh(again.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("refresh after the store is back: %d %s", r.Status, r.Body)
	}
	if r := s.get("/v1/me", again.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("me after the store is back: %d %s", r.Status, r.Body)
	}
	if r := s.logout(tk.AccessToken, ""); r.Status/100 != 2 {
		t.Fatalf("logout after the store is back: %d %s", r.Status, r.Body)
	}

	// A database that accepts connections but never answers (a
	// partition) is the same 503, within the connect timeout, not a hang.
	proxy.Blackhole()
	start := time.Now()
	s.postJSON("/v1/login", map[string]string{"email": "nadia@example.com", "password": pw}).
		wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	if d := time.Since(start); d > 2*sqlstore.DefaultPostgresConnectTimeout {
		t.Errorf("login with Postgres not answering took %v", d)
	}
	proxy.Restore()
	s.login("nadia@example.com", pw)
}
