package e2e_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/pkg/store"
)

// Every account and session flow leaves its event in the audit trail, in
// order, with the user, session, IP and user agent it knows, and no
// password, token or token id anywhere in it.
func TestAuditTrail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)
		ua := map[string]string{"User-Agent": "audit-test/1.0"}
		post := func(path string, body string) response {
			return s.do("POST", path, "application/json", body, ua)
		}
		creds := func(email, password string) string {
			return fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
		}
		secrets := []string{pw, newPW, "wrong horse battery"}
		keep := func(tks ...tokens) {
			for _, tk := range tks {
				secrets = append(secrets, tk.AccessToken, tk.RefreshToken,
					claims(t, tk.AccessToken)["jti"].(string), claims(t, tk.RefreshToken)["jti"].(string))
			}
		}

		post("/v1/register", creds("ada@example.com", pw)).want(t, http.StatusCreated)
		verifyTok := tokenFrom(t, nextMail(t, mails, "ada@example.com", "Confirm"), "/verify-email")
		post("/v1/email/verify", fmt.Sprintf(`{"token":%q}`, verifyTok)).want(t, http.StatusOK)
		post("/v1/login", creds("ada@example.com", "wrong horse battery")).want(t, http.StatusUnauthorized)
		post("/v1/login", creds("nobody@example.com", "wrong horse battery")).want(t, http.StatusUnauthorized)
		phone := decodeTokens(t, post("/v1/login", creds("ada@example.com", pw)).want(t, http.StatusOK))
		laptop := decodeTokens(t, post("/v1/login", creds("ada@example.com", pw)).want(t, http.StatusOK))
		phone2 := decodeTokens(t, s.refresh(phone.RefreshToken).want(t, http.StatusOK))
		keep(phone, laptop, phone2)
		phoneSID, laptopSID := claims(t, phone.AccessToken)["sid"].(string), claims(t, laptop.AccessToken)["sid"].(string)
		s.bearer("DELETE", "/v1/sessions/"+laptopSID, phone2.AccessToken, nil).want(t, http.StatusNoContent)
		s.bearer("POST", "/v1/password/change", phone2.AccessToken, map[string]string{"current_password": "wrong horse battery", "new_password": newPW}).
			want(t, http.StatusUnauthorized)
		s.bearer("POST", "/v1/password/change", phone2.AccessToken, map[string]string{"current_password": pw, "new_password": newPW}).
			want(t, http.StatusNoContent)
		nextMail(t, mails, "ada@example.com", "password was changed")
		s.Clock.Advance(s.Config.RefreshReuseGrace + time.Second)
		s.refresh(phone.RefreshToken).want(t, http.StatusBadRequest) // reuse: the session is revoked
		tab := s.login("ada@example.com", newPW)
		keep(tab)
		s.logout(tab.AccessToken, "global").want(t, http.StatusNoContent)
		post("/v1/password/forgot", `{"email":"ada@example.com"}`).want(t, http.StatusAccepted)
		resetTok := tokenFrom(t, nextMail(t, mails, "ada@example.com", "Reset"), "/reset-password")
		post("/v1/password/reset", fmt.Sprintf(`{"token":%q,"password":"a third new horse"}`, resetTok)).want(t, http.StatusNoContent)
		secrets = append(secrets, verifyTok, resetTok, "a third new horse")
		userID := claims(t, tab.AccessToken)["sub"].(string)

		s.Stop() // drains the audit writer
		st, err := app.OpenStore(t.Context(), s.Config, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		events, err := st.AuditEvents(t.Context(), store.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(events) // oldest first
		type row struct{ typ, outcome, detail, user, session string }
		want := []row{
			{"register", "success", "", userID, ""},
			{"email_verified", "success", "", userID, ""},
			{"login", "failure", "invalid_credentials", userID, ""},
			{"login", "failure", "invalid_credentials", "", ""},
			{"login", "success", "", userID, phoneSID},
			{"login", "success", "", userID, laptopSID},
			{"refresh", "success", "", userID, phoneSID},
			{"session_revoked", "success", "", userID, laptopSID},
			{"password_change", "failure", "invalid_credentials", userID, phoneSID},
			{"password_change", "success", "", userID, phoneSID},
			{"refresh_reuse", "failure", "session_revoked", userID, phoneSID},
			{"login", "success", "", userID, claims(t, tab.AccessToken)["sid"].(string)},
			{"logout", "success", "global", userID, claims(t, tab.AccessToken)["sid"].(string)},
			{"password_reset", "success", "", userID, ""},
		}
		var got []row
		for _, e := range events {
			got = append(got, row{e.Type, e.Outcome, e.Detail, e.UserID, e.SessionID})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("audit trail:\n got %v\nwant %v", got, want)
		}
		for _, e := range events {
			if e.IP != "127.0.0.1" || e.At.IsZero() {
				t.Errorf("event %+v: IP or time missing", e)
			}
			if e.UserAgent != "audit-test/1.0" && e.UserAgent != "Go-http-client/1.1" {
				t.Errorf("event %s: user agent %q", e.Type, e.UserAgent)
			}
			leaks(t, e, secrets)
		}
		mine, err := st.AuditEvents(t.Context(), store.AuditQuery{Limit: 100, UserID: userID})
		if err != nil || len(mine) != len(want)-1 { // all but the unknown email's failure
			t.Fatalf("events of %s: %d, %v", userID, len(mine), err)
		}
	})
}

// leaks fails t if any field of e contains one of secrets.
func leaks(t *testing.T, e store.AuditEvent, secrets []string) {
	t.Helper()
	all := strings.Join([]string{e.Type, e.Outcome, e.UserID, e.SessionID, e.IP, e.UserAgent, e.Detail}, "\x00")
	for _, sec := range secrets {
		if sec != "" && strings.Contains(all, sec) {
			t.Errorf("event %s/%s contains a secret (%.8s…)", e.Type, e.Outcome, sec)
		}
	}
}
