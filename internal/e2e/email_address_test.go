package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/authd/authd/pkg/store"
	"golang.org/x/crypto/bcrypt"
)

// A Unicode domain and its A-label are one account, stored as the A-label;
// address literals and bidi controls are refused; accounts stored with
// their Unicode spelling by an earlier release still log in.
func TestEmailDomainsAreIDNANormalised(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)

		r := s.register("a@exämple.com", pw).want(t, http.StatusCreated)
		if got := r.str(t, "email"); got != "a@xn--exmple-cua.com" {
			t.Fatalf("registered email = %q, want the A-label form", got)
		}
		for _, email := range []string{"a@xn--exmple-cua.com", "a@exämple.com", "A@EXÄMPLE.COM"} {
			s.login(email, pw)
		}
		s.register("a@xn--exmple-cua.com", pw).wantError(t, http.StatusConflict, "email_taken")

		for _, email := range []string{"user@[127.0.0.1]", "user@[IPv6:::1]", "us\u202eer@example.com", "a\u200e@example.com", "a@exa\u2066mple.com"} {
			s.register(email, pw).wantError(t, http.StatusBadRequest, "invalid_request")
			s.postJSON("/v1/password/forgot", map[string]string{"email": email}).wantError(t, http.StatusBadRequest, "invalid_request")
		}

		// Stored by an earlier release: the store only lower-cases.
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), s.Config.BcryptCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Store().CreateUser(context.Background(), store.User{ID: "legacy", Email: "old@bücher.example", PasswordHash: string(hash)}); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"old@xn--bcher-kva.example", "old@bücher.example"} {
			if sub := claims(t, s.login(email, pw).AccessToken)["sub"]; sub != "legacy" {
				t.Fatalf("login as %s reached %v, want the stored account", email, sub)
			}
		}
		s.register("old@xn--bcher-kva.example", pw).wantError(t, http.StatusConflict, "email_taken")
	})
}
