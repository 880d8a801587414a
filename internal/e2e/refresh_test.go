package e2e_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestRefreshRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		clk := newClock()
		s := start(t, cfg, clk)
		first := s.signedUp("erin@example.com")

		r := s.refresh(first.RefreshToken)
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		second := decodeTokens(t, r)
		if claims(t, second.RefreshToken)["jti"] == claims(t, first.RefreshToken)["jti"] {
			t.Fatal("refresh token did not rotate")
		}
		if claims(t, second.AccessToken)["sid"] != claims(t, first.AccessToken)["sid"] {
			t.Fatal("rotation changed the session id")
		}

		// Within the grace window the previous token yields the same
		// successor, so a client that lost the response is not logged out.
		clk.Advance(cfg.RefreshReuseGrace / 2)
		again := s.refresh(first.RefreshToken)
		if again.Status != http.StatusOK {
			t.Fatalf("replay within grace: %d %s", again.Status, again.Body)
		}
		if got, want := claims(t, decodeTokens(t, again).RefreshToken)["jti"], claims(t, second.RefreshToken)["jti"]; got != want {
			t.Fatalf("replay within grace gave jti %v, want the same successor %v", got, want)
		}

		// JSON bodies work too.
		r = s.postJSON("/v1/token", map[string]string{"grant_type": "refresh_token", "refresh_token": second.RefreshToken})
		if r.Status != http.StatusOK {
			t.Fatalf("JSON refresh: %d %s", r.Status, r.Body)
		}
		third := decodeTokens(t, r)

		// After the grace window, replaying a rotated token revokes the
		// whole family: its current refresh token and its access tokens.
		clk.Advance(cfg.RefreshReuseGrace + time.Second)
		s.refresh(first.RefreshToken).wantError(t, 400, "invalid_grant")
		s.refresh(third.RefreshToken).wantError(t, 400, "invalid_grant")
		s.get("/v1/me", third.AccessToken).wantError(t, 401, "invalid_token")
	})
}

func TestConcurrentRefreshNeverForks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		cfg.RefreshReuseGrace = 0
		b.configure(t, &cfg)
		s := start(t, cfg, newClock())
		tk := s.signedUp("frank@example.com")

		const n = 20
		statuses := make([]int, n)
		var wg sync.WaitGroup
		startGate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startGate
				statuses[i] = s.refresh(tk.RefreshToken).Status
			}()
		}
		close(startGate)
		wg.Wait()
		ok := 0
		for _, st := range statuses {
			switch st {
			case http.StatusOK:
				ok++
			case http.StatusBadRequest:
			default:
				t.Fatalf("unexpected status %d", st)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1 (statuses %v)", ok, n, statuses)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		tk := s.signedUp("gina@example.com")
		form := "application/x-www-form-urlencoded"
		tests := []struct {
			name, contentType, body string
			status                  int
			code                    string
		}{
			{"password grant", form, "grant_type=password&username=gina@example.com&password=correct+horse+battery", 400, "unsupported_grant_type"},
			{"unknown grant", form, "grant_type=authorization_code&code=x", 400, "unsupported_grant_type"},
			// Supported since service clients: without a client it is a
			// failed client authentication, not an unknown grant.
			{"client_credentials without a client", form, "grant_type=client_credentials", 401, "invalid_client"},
			{"missing grant", form, "refresh_token=x", 400, "invalid_request"},
			{"missing refresh token", form, "grant_type=refresh_token", 400, "invalid_request"},
			{"repeated parameter", form, "grant_type=refresh_token&grant_type=refresh_token&refresh_token=x", 400, "invalid_request"},
			{"garbage token", form, "grant_type=refresh_token&refresh_token=abc.def.ghi", 400, "invalid_grant"},
			{"access token as refresh", form, "grant_type=refresh_token&refresh_token=" + tk.AccessToken, 400, "invalid_grant"},
			{"malformed form", form, "grant_type=%zz", 400, "invalid_request"},
			{"bad json", "application/json", `{"grant_type":`, 400, "invalid_request"},
			{"wrong content type", "text/plain", "grant_type=refresh_token", 415, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s.do("POST", "/v1/token", tt.contentType, tt.body, nil).wantError(t, tt.status, tt.code)
			})
		}
	})
}
