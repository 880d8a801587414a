package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/google/uuid"
)

const pw = "correct horse battery"

func TestEmailVerification(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)

		tok := tokenFrom(t, s.signUp(mails, "ivy@example.com"), "/verify-email")
		tk := s.login("ivy@example.com", pw)
		if me := s.get("/v1/me", tk.AccessToken).JSON(t); me["email_verified"] != false {
			t.Fatalf("verified before following the link: %v", me)
		}

		r := s.postJSON("/v1/email/verify", map[string]string{"token": tok}).want(t, http.StatusOK)
		if body := r.JSON(t); body["email_verified"] != true || body["email"] != "ivy@example.com" {
			t.Fatalf("verify body: %s", r.Body)
		}
		if me := s.get("/v1/me", tk.AccessToken).JSON(t); me["email_verified"] != true {
			t.Fatalf("/v1/me after verifying: %v", me)
		}

		t.Run("reuse", func(t *testing.T) {
			s.postJSON("/v1/email/verify", map[string]string{"token": tok}).wantTokenError(t)
		})
		t.Run("guessed and malformed", func(t *testing.T) {
			for _, bad := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "short", tok + "x", "=" + tok[1:]} {
				s.postJSON("/v1/email/verify", map[string]string{"token": bad}).wantTokenError(t)
			}
			s.postJSON("/v1/email/verify", map[string]string{}).wantError(t, 400, "invalid_request")
			s.do("POST", "/v1/email/verify", "application/json", `{"token":"x","extra":1}`, nil).wantError(t, 400, "invalid_request")
		})
		t.Run("resend when verified sends nothing", func(t *testing.T) {
			s.bearer("POST", "/v1/email/verify/resend", tk.AccessToken, nil).want(t, http.StatusAccepted)
			mails.ExpectNone(t, 300*time.Millisecond)
		})
		t.Run("resend needs a token", func(t *testing.T) {
			if r := s.do("POST", "/v1/email/verify/resend", "", "", nil); r.Status != 401 {
				t.Fatalf("resend without a token: %d", r.Status)
			}
		})
	})
}

func TestEmailVerificationResendAndExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s, mails := startMailing(t, b, clk, nil)

		first := tokenFrom(t, s.signUp(mails, "jack@example.com"), "/verify-email")
		tk := s.login("jack@example.com", pw)

		r := s.bearer("POST", "/v1/email/verify/resend", tk.AccessToken, nil).want(t, http.StatusAccepted)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		second := tokenFrom(t, nextMail(t, mails, "jack@example.com", "Confirm"), "/verify-email")
		if second == first {
			t.Fatal("resend mailed the same token")
		}
		// Only the newest link works.
		s.postJSON("/v1/email/verify", map[string]string{"token": first}).wantTokenError(t)

		// Past VerifyTTL the live token is dead too.
		clk.Advance(s.Config.VerifyTTL + time.Second)
		s.postJSON("/v1/email/verify", map[string]string{"token": second}).wantTokenError(t)
		tk = s.login("jack@example.com", pw) // the old access token expired with the clock
		s.bearer("POST", "/v1/email/verify/resend", tk.AccessToken, nil).want(t, http.StatusAccepted)
		third := tokenFrom(t, nextMail(t, mails, "jack@example.com", "Confirm"), "/verify-email")
		s.postJSON("/v1/email/verify", map[string]string{"token": third}).want(t, http.StatusOK)
	})
}

// A token is only good for its own purpose, and a refused attempt with
// the wrong one does not spend it.
func TestOneTimeTokenPurposes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)

		verify := tokenFrom(t, s.signUp(mails, "kate@example.com"), "/verify-email")
		reset := s.resetToken(mails, "kate@example.com")

		s.postJSON("/v1/email/verify", map[string]string{"token": reset}).wantTokenError(t)
		s.postJSON("/v1/password/reset", map[string]string{"token": verify, "password": "a new horse battery"}).wantTokenError(t)

		s.postJSON("/v1/email/verify", map[string]string{"token": verify}).want(t, http.StatusOK)
		s.postJSON("/v1/password/reset", map[string]string{"token": reset, "password": "a new horse battery"}).want(t, http.StatusNoContent)
	})
}

func TestRequireVerifiedEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), func(cfg *config.Config) { cfg.RequireVerifiedEmail = true })

		tok := tokenFrom(t, s.signUp(mails, "liam@example.com"), "/verify-email")

		login := map[string]string{"email": "liam@example.com", "password": pw}
		s.postJSON("/v1/login", login).wantError(t, http.StatusForbidden, "email_not_verified")
		// A wrong password is still just wrong: the 403 tells nothing to
		// someone without the password.
		s.postJSON("/v1/login", map[string]string{"email": "liam@example.com", "password": "wrong horse battery"}).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")

		s.postJSON("/v1/email/verify", map[string]string{"token": tok}).want(t, http.StatusOK)
		s.login("liam@example.com", pw)
	})
}

// With verified email required, registering a taken email answers like a
// new registration and mails the owner instead (ASVS 5.0 6.3.8).
func TestRegistrationDoesNotRevealAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), func(cfg *config.Config) { cfg.RequireVerifiedEmail = true })

		first := s.register("mia@example.com", pw).want(t, http.StatusCreated)
		nextMail(t, mails, "mia@example.com", "Confirm")
		taken := s.register("MIA@example.com", "another horse battery").want(t, http.StatusCreated)
		// The owner hears of it (and gets no verification link).
		nextMail(t, mails, "mia@example.com", "tried to sign up")
		fresh := s.register("noah@example.com", pw).want(t, http.StatusCreated)
		nextMail(t, mails, "noah@example.com", "Confirm")

		a, b2, c := first.JSON(t), taken.JSON(t), fresh.JSON(t)
		if b2["id"] == a["id"] || b2["email"] != "mia@example.com" || b2["email_verified"] != false {
			t.Fatalf("taken answer %s reveals the account %s", taken.Body, first.Body)
		}
		if !sameShape(b2, c) {
			t.Fatalf("answers differ in shape:\n taken %s\n new   %s", taken.Body, fresh.Body)
		}
		for k := range fresh.Header {
			if k != "Date" && k != "X-Request-Id" && k != "Content-Length" && taken.Header.Get(k) != fresh.Header.Get(k) {
				t.Errorf("header %s: %q vs %q", k, taken.Header.Get(k), fresh.Header.Get(k))
			}
		}
		// The account is unchanged: the second password does not log in.
		s.postJSON("/v1/login", map[string]string{"email": "mia@example.com", "password": "another horse battery"}).
			wantError(t, http.StatusUnauthorized, "invalid_credentials")
	})
}

// sameShape reports whether two registration answers have the same fields
// with values of the same form: a UUID id, an RFC 3339 created_at, the
// same email_verified.
func sameShape(a, b map[string]any) bool {
	if len(a) != len(b) || a["email_verified"] != b["email_verified"] {
		return false
	}
	for _, m := range []map[string]any{a, b} {
		id, _ := m["id"].(string)
		created, _ := m["created_at"].(string)
		if _, err := uuid.Parse(id); err != nil {
			return false
		}
		if _, err := time.Parse(time.RFC3339Nano, created); err != nil {
			return false
		}
		if _, ok := m["email"].(string); !ok {
			return false
		}
	}
	return true
}
