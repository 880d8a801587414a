package e2e_test

import (
	"net/http"
	"testing"
	"time"
)

const newPW = "a brand new horse"

// Forgot-password answers identically for known and unknown emails:
// status, headers (but Date) and body; only the known one gets mail.
func TestForgotPasswordDoesNotRevealAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)
		s.signUp(mails, "olga@example.com")

		// Same length, so even Content-Length has nothing to tell.
		known := s.postJSON("/v1/password/forgot", map[string]string{"email": "olga@example.com"}).want(t, http.StatusAccepted)
		unknown := s.postJSON("/v1/password/forgot", map[string]string{"email": "olgb@example.com"}).want(t, http.StatusAccepted)
		if string(known.Body) != string(unknown.Body) {
			t.Fatalf("bodies differ: %s vs %s", known.Body, unknown.Body)
		}
		if len(known.Header) != len(unknown.Header) {
			t.Fatalf("headers differ: %v vs %v", known.Header, unknown.Header)
		}
		for k := range known.Header {
			if k != "Date" && k != "X-Request-Id" && known.Header.Get(k) != unknown.Header.Get(k) {
				t.Errorf("header %s: %q vs %q", k, known.Header.Get(k), unknown.Header.Get(k))
			}
		}
		nextMail(t, mails, "olga@example.com", "Reset")
		mails.ExpectNone(t, 300*time.Millisecond)

		s.postJSON("/v1/password/forgot", map[string]string{"email": "not an email"}).wantError(t, 400, "invalid_request")
	})
}

func TestPasswordReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)
		s.signUp(mails, "pia@example.com")
		phone, laptop := s.login("pia@example.com", pw), s.login("pia@example.com", pw)

		s.postJSON("/v1/password/forgot", map[string]string{"email": " PIA@example.com"}).want(t, http.StatusAccepted)
		tok := tokenFrom(t, nextMail(t, mails, "pia@example.com", "Reset"), "/reset-password")

		// A weak password is refused before the token is spent.
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": "short"}).wantError(t, 422, "weak_password")
		s.postJSON("/v1/password/reset", map[string]string{"token": tok}).wantError(t, 400, "invalid_request")
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}).want(t, http.StatusNoContent)
		nextMail(t, mails, "pia@example.com", "password was changed")

		// Every session is over: access and refresh tokens alike.
		for _, tk := range []tokens{phone, laptop} {
			s.get("/v1/me", tk.AccessToken).wantError(t, 401, "invalid_token")
			s.refresh(tk.RefreshToken).wantError(t, 400, "invalid_grant")
		}
		s.postJSON("/v1/login", map[string]string{"email": "pia@example.com", "password": pw}).wantError(t, 401, "invalid_credentials")
		fresh := s.login("pia@example.com", newPW)
		me := s.get("/v1/me", fresh.AccessToken).want(t, http.StatusOK).JSON(t)
		if me["email_verified"] != true {
			t.Errorf("a completed reset proves the address: email_verified = %v", me["email_verified"])
		}

		// The link works once.
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": "yet another horse"}).wantTokenError(t)
		s.login("pia@example.com", newPW)
	})
}

func TestPasswordResetExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s, mails := startMailing(t, b, clk, nil)
		s.signUp(mails, "quinn@example.com")

		old := s.resetToken(mails, "quinn@example.com")
		tok := s.resetToken(mails, "quinn@example.com")
		// A new link replaces the previous one.
		s.postJSON("/v1/password/reset", map[string]string{"token": old, "password": newPW}).wantTokenError(t)

		clk.Advance(s.Config.ResetTTL)
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}).wantTokenError(t)
		s.login("quinn@example.com", pw)
	})
}

func TestPasswordChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)
		s.signUp(mails, "rose@example.com")
		current, other := s.login("rose@example.com", pw), s.login("rose@example.com", pw)
		change := func(cur, next string) response {
			return s.bearer("POST", "/v1/password/change", current.AccessToken,
				map[string]string{"current_password": cur, "new_password": next})
		}

		change("wrong horse battery", newPW).wantError(t, 401, "invalid_credentials")
		change(pw, "short").wantError(t, 422, "weak_password")
		change("", newPW).wantError(t, 400, "invalid_request")
		if r := s.do("POST", "/v1/password/change", "application/json", `{}`, nil); r.Status != 401 {
			t.Fatalf("change without a token: %d", r.Status)
		}
		change(pw, newPW).want(t, http.StatusNoContent)
		nextMail(t, mails, "rose@example.com", "password was changed")

		s.get("/v1/me", other.AccessToken).wantError(t, 401, "invalid_token")
		s.refresh(other.RefreshToken).wantError(t, 400, "invalid_grant")
		s.get("/v1/me", current.AccessToken).want(t, http.StatusOK)
		s.refresh(current.RefreshToken).want(t, http.StatusOK)
		s.postJSON("/v1/login", map[string]string{"email": "rose@example.com", "password": pw}).wantError(t, 401, "invalid_credentials")
		s.login("rose@example.com", newPW)
	})
}
