package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/password"
)

// Every new password (register, reset, change) is screened against the
// breached list: 422 weak_password with the reason, before any bcrypt,
// and a refused reset leaves its link usable.
func TestBreachedPasswordsRefused(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	cfg.PasswordMinLength = 10
	mails := withMail(t, &cfg)
	s := start(t, cfg, newClock())
	wantBreached := func(r response) {
		t.Helper()
		r.wantError(t, http.StatusUnprocessableEntity, "weak_password")
		if d := r.str(t, "error_description"); d != password.BreachedReason {
			t.Fatalf("description %q", d)
		}
	}

	before := s.bcrypts()
	wantBreached(s.register("eve@example.com", "Password123"))
	wantBreached(s.register("eve@example.com", "ＰＡＳＳＷＯＲＤ１２３")) // NFKC and case folded
	if n := s.bcrypts() - before; n != 0 {
		t.Fatalf("%d bcrypt computations for refused passwords", n)
	}
	r := s.register("eve@example.com", "horse9")
	r.wantError(t, http.StatusUnprocessableEntity, "weak_password")
	if d := r.str(t, "error_description"); !strings.Contains(d, "at least 10 characters") {
		t.Fatalf("min length description %q", d)
	}
	r = s.register("eve@example.com", strings.Repeat("ü", 37)) // 74 bytes
	if d := r.str(t, "error_description"); !strings.Contains(d, "at most 72 bytes") {
		t.Fatalf("max length description %q", d)
	}

	s.signUp(mails, "eve@example.com")
	tk := s.login("eve@example.com", pw)
	wantBreached(s.bearer("POST", "/v1/password/change", tk.AccessToken, map[string]string{"current_password": pw, "new_password": "iloveyou123"}))

	tok := s.resetToken(mails, "eve@example.com")
	wantBreached(s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": "qwertyuiop"}))
	s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}).want(t, http.StatusNoContent)
}

// A full bcrypt gate answers 503 temporarily_unavailable with the gate's
// Retry-After on every bcrypt path, identically for known and unknown
// emails; a reset refused this way keeps its link.
func TestFullGateAnswers503(t *testing.T) {
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	cfg.BcryptMaxConcurrent, cfg.BcryptMaxQueue, cfg.BcryptMaxWait = 1, 1, 10*time.Millisecond
	mails := withMail(t, &cfg)
	s := start(t, cfg, newClock())
	s.signUp(mails, "gus@example.com")
	tk := s.login("gus@example.com", pw)
	tok := s.resetToken(mails, "gus@example.com")

	release, err := s.App.Gate().Acquire(context.Background()) // the only slot
	if err != nil {
		t.Fatal(err)
	}
	busy := func(r response) response {
		t.Helper()
		r.wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
		r.retryAfter(t)
		return r
	}
	known := busy(s.postJSON("/v1/login", map[string]string{"email": "gus@example.com", "password": "wrong horse battery"}))
	unknown := busy(s.postJSON("/v1/login", map[string]string{"email": "nobody@example.com", "password": "wrong horse battery"}))
	if string(known.Body) != string(unknown.Body) || known.Header.Get("Retry-After") != unknown.Header.Get("Retry-After") {
		t.Fatalf("known and unknown emails differ under load: %s / %s", known.Body, unknown.Body)
	}
	busy(s.register("hal@example.com", pw))
	busy(s.bearer("POST", "/v1/password/change", tk.AccessToken, map[string]string{"current_password": pw, "new_password": newPW}))
	busy(s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}))
	release()

	s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}).want(t, http.StatusNoContent)
	s.login("gus@example.com", newPW)
	if st := s.App.Gate().Stats(); st.Rejected() != 5 {
		t.Fatalf("gate rejected %d, want 5", st.Rejected())
	}
}
