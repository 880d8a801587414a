package e2e_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// tcpProxy forwards a loopback port to target until cut, which closes the
// listener and every connection: a dependency "going down" without touching
// the shared server.
func tcpProxy(t *testing.T, target string) (addr string, cut func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	closed := false
	track := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			c.Close()
			return false
		}
		conns = append(conns, c)
		return true
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !track(c) || !track(up) {
				c.Close()
				up.Close()
				continue
			}
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	var once sync.Once
	cut = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			closed = true
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
	}
	t.Cleanup(cut)
	return ln.Addr().String(), cut
}

func TestVerifyEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		tk := s.signedUp("nina@example.com")
		sub := claims(t, tk.AccessToken)["sub"].(string)
		if err := s.App.Store().GrantRole(t.Context(), sub, "editor"); err != nil {
			t.Fatal(err)
		}
		tk = decodeTokens(t, s.refresh(tk.RefreshToken))

		for _, path := range []string{"/v1/verify", "/v1/verify/some/original/path"} {
			r := s.get(path, tk.AccessToken)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
			if r.Header.Get("X-Auth-Subject") != sub || r.Header.Get("X-Auth-Roles") != "editor" ||
				r.Header.Get("X-Auth-Session") != claims(t, tk.AccessToken)["sid"] {
				t.Fatalf("%s headers: %v", path, r.Header)
			}
		}
		// Envoy forwards the original method.
		if r := s.do("POST", "/v1/verify/api/items", "", "", map[string]string{"Authorization": "Bearer " + tk.AccessToken}); r.Status != 200 {
			t.Fatalf("POST verify: %d", r.Status)
		}
		if r := s.get("/v1/verify", ""); r.Status != 401 || r.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("no token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		r := s.get("/v1/verify", tk.RefreshToken)
		if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("refresh token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		s.logout(tk.AccessToken, "")
		s.get("/v1/verify", tk.AccessToken).wantError(t, 401, "invalid_token")
	})
}

// TestVerifyWhilePostgresIsDown cuts authd's connection to Postgres: /v1/verify
// keeps answering from the key ring and Redis, while /readyz says why it is
// not ready.
func TestVerifyWhilePostgresIsDown(t *testing.T) {
	cfg := testConfig()
	backends[1].configure(t, &cfg)
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, cut := tcpProxy(t, u.Host)
	u.Host = proxy
	cfg.DatabaseURL = u.String()
	s := start(t, cfg, newClock())
	live, dead := s.signedUp("omar@example.com"), s.login("omar@example.com", "correct horse battery")
	s.logout(dead.AccessToken, "")

	cut()

	if r := s.get("/v1/verify", live.AccessToken); r.Status != 200 {
		t.Fatalf("verify with Postgres down: %d %s", r.Status, r.Body)
	}
	s.get("/v1/verify", dead.AccessToken).wantError(t, 401, "invalid_token")
	s.get("/v1/verify", "garbage").wantError(t, 401, "invalid_token")
	if r := s.get("/readyz", ""); r.Status != 503 || !strings.Contains(string(r.Body), "store") {
		t.Fatalf("readyz with Postgres down: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(scrape(t, s), `authd_dependency_errors_total{dependency="store"}`) {
		t.Fatal("the store failure was not counted")
	}
	// Login needs the store: it fails cleanly, without a panic.
	if r := s.postJSON("/v1/login", map[string]string{"email": "omar@example.com", "password": "correct horse battery"}); r.Status < 500 {
		t.Fatalf("login with Postgres down: %d", r.Status)
	}
}

func TestIntrospection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := startOn(t, b, clk, withGateway)
		tk := s.signedUp("pia@example.com")
		revoked := s.login("pia@example.com", "correct horse battery")
		s.logout(revoked.AccessToken, "")

		introspect := func(user, pass, tok string) response {
			req, _ := http.NewRequest("POST", s.URL+"/v1/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if user != "" {
				req.SetBasicAuth(user, pass)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
		}

		for name, creds := range map[string][2]string{"none": {"", ""}, "wrong secret": {"kong", "nope"}, "wrong id": {"other", s.Config.IntrospectionClientSecret}} {
			t.Run("refused caller "+name, func(t *testing.T) {
				r := introspect(creds[0], creds[1], tk.AccessToken)
				r.wantError(t, 401, "invalid_client")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
					t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
			})
		}

		r := introspect("kong", s.Config.IntrospectionClientSecret, tk.AccessToken)
		m := r.JSON(t)
		if r.Status != 200 || m["active"] != true || m["sub"] != claims(t, tk.AccessToken)["sub"] || m["client_id"] != "authd" || m["token_type"] != "Bearer" {
			t.Fatalf("active token: %d %s", r.Status, r.Body)
		}
		for name, tok := range map[string]string{"refresh token": tk.RefreshToken, "revoked": revoked.AccessToken, "garbage": "x.y.z"} {
			r := introspect("kong", s.Config.IntrospectionClientSecret, tok)
			if r.Status != 200 || string(r.Body) != `{"active":false}` {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		clk.Advance(s.Config.AccessTTL + s.Config.Leeway + 1e9)
		if r := introspect("kong", s.Config.IntrospectionClientSecret, tk.AccessToken); string(r.Body) != `{"active":false}` {
			t.Fatalf("expired: %s", r.Body)
		}
		if m := s.get("/.well-known/oauth-authorization-server", "").JSON(t); m["introspection_endpoint"] != s.Config.Issuer+"/v1/introspect" {
			t.Fatalf("discovery lacks introspection_endpoint: %v", m)
		}
	})
}
