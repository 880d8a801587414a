package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/authd/authd/config"
)

type sessionList struct {
	Sessions []struct {
		ID              string `json:"id"`
		CreatedAt       string `json:"created_at"`
		LastRefreshedAt string `json:"last_refreshed_at"`
		UserAgent       string `json:"user_agent"`
		IP              string `json:"ip"`
		Current         bool   `json:"current"`
	} `json:"sessions"`
}

func (s *server) sessions(t *testing.T, access string) sessionList {
	t.Helper()
	r := s.get("/v1/sessions", access).want(t, http.StatusOK)
	var l sessionList
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// loginFrom logs in with a User-Agent and an X-Forwarded-For.
func (s *server) loginFrom(t *testing.T, email, ua, xff string) tokens {
	t.Helper()
	r := s.do("POST", "/v1/login", "application/json", `{"email":"`+email+`","password":"`+pw+`"}`,
		map[string]string{"User-Agent": ua, "X-Forwarded-For": xff})
	return decodeTokens(t, r.want(t, http.StatusOK))
}

func TestSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		s.register("sam@example.com", pw).want(t, http.StatusCreated)
		s.register("tia@example.com", pw).want(t, http.StatusCreated)
		// No proxy is trusted: X-Forwarded-For is the client's say-so and
		// is ignored.
		phone := s.loginFrom(t, "sam@example.com", "phone/1.0", "203.0.113.9")
		laptop := s.loginFrom(t, "sam@example.com", "laptop/2.0", "203.0.113.9")
		other := s.login("tia@example.com", pw)

		l := s.sessions(t, phone.AccessToken)
		if len(l.Sessions) != 2 {
			t.Fatalf("sessions: %+v", l)
		}
		for _, sess := range l.Sessions {
			mine := sess.ID == claims(t, phone.AccessToken)["sid"]
			if sess.Current != mine || sess.IP != "127.0.0.1" || sess.CreatedAt == "" || sess.LastRefreshedAt == "" {
				t.Errorf("session %+v (current should be %v, IP the TCP peer)", sess, mine)
			}
			if want := map[bool]string{true: "phone/1.0", false: "laptop/2.0"}[mine]; sess.UserAgent != want {
				t.Errorf("user agent %q, want %q", sess.UserAgent, want)
			}
		}

		laptopSID := claims(t, laptop.AccessToken)["sid"].(string)
		s.bearer("DELETE", "/v1/sessions/"+claims(t, other.AccessToken)["sid"].(string), phone.AccessToken, nil).
			wantError(t, http.StatusNotFound, "not_found")
		s.bearer("DELETE", "/v1/sessions/no-such-session", phone.AccessToken, nil).wantError(t, http.StatusNotFound, "not_found")
		s.get("/v1/me", other.AccessToken).want(t, http.StatusOK) // untouched

		s.bearer("DELETE", "/v1/sessions/"+laptopSID, phone.AccessToken, nil).want(t, http.StatusNoContent)
		s.get("/v1/me", laptop.AccessToken).wantError(t, 401, "invalid_token")
		s.refresh(laptop.RefreshToken).wantError(t, 400, "invalid_grant")
		s.get("/v1/me", phone.AccessToken).want(t, http.StatusOK)
		if l := s.sessions(t, phone.AccessToken); len(l.Sessions) != 1 || !l.Sessions[0].Current {
			t.Fatalf("after revoking the laptop: %+v", l)
		}
		if r := s.get("/v1/sessions", ""); r.Status != 401 {
			t.Fatalf("sessions without a token: %d", r.Status)
		}
	})
}

// Behind a trusted proxy the client IP comes from X-Forwarded-For, at
// login and again at refresh.
func TestSessionsBehindTrustedProxy(t *testing.T) {
	s := startEmbedded(t, newClock(), func(cfg *config.Config) { cfg.TrustedProxies = "127.0.0.1/32, ::1" })
	s.register("uma@example.com", pw).want(t, http.StatusCreated)
	tk := s.loginFrom(t, "uma@example.com", "phone/1.0", "203.0.113.9")
	if l := s.sessions(t, tk.AccessToken); l.Sessions[0].IP != "203.0.113.9" {
		t.Fatalf("IP %q, want the forwarded 203.0.113.9", l.Sessions[0].IP)
	}
	form := "grant_type=refresh_token&refresh_token=" + tk.RefreshToken
	r := s.do("POST", "/v1/token", "application/x-www-form-urlencoded", form,
		map[string]string{"X-Forwarded-For": "198.51.100.4", "User-Agent": "phone/1.1"})
	next := decodeTokens(t, r.want(t, http.StatusOK))
	l := s.sessions(t, next.AccessToken)
	if l.Sessions[0].IP != "198.51.100.4" || l.Sessions[0].UserAgent != "phone/1.1" {
		t.Fatalf("after refresh: %+v", l.Sessions[0])
	}
}
