package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
)

func TestTokensSurviveRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		clk := newClock()
		first := start(t, cfg, clk)
		tk := first.signedUp("jack@example.com")
		kid := header(t, tk.AccessToken)["kid"]
		first.Stop()

		second := start(t, cfg, clk)
		if r := second.get("/v1/me", tk.AccessToken); r.Status != http.StatusOK {
			t.Fatalf("access token after restart: %d %s", r.Status, r.Body)
		}
		r := second.refresh(tk.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh after restart: %d %s", r.Status, r.Body)
		}
		if got := header(t, decodeTokens(t, r).AccessToken)["kid"]; got != kid {
			t.Fatalf("restart changed the signing key: %v -> %v", kid, got)
		}
	})
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		s := start(t, cfg, newClock())
		before := s.signedUp("kate@example.com")
		// A scheduled-style rotation: the new key signs after the
		// publish-ahead window. (RotateNow revokes the old key instead.)
		if _, err := s.App.Keys().Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(app.PublishAhead(cfg) + time.Second)
		after := s.login("kate@example.com", "correct horse battery")
		if header(t, before.AccessToken)["kid"] == header(t, after.AccessToken)["kid"] {
			t.Fatal("rotation did not change the signing key")
		}
		for _, tk := range []tokens{before, after} {
			if r := s.get("/v1/me", tk.AccessToken); r.Status != 200 {
				t.Fatalf("token of kid %v refused after rotation: %d", header(t, tk.AccessToken)["kid"], r.Status)
			}
		}
		if r := s.refresh(before.RefreshToken); r.Status != 200 {
			t.Fatalf("refresh token signed by the retired key: %d %s", r.Status, r.Body)
		}
		var set struct{ Keys []map[string]any }
		if err := jsonUnmarshal(s.get("/.well-known/jwks.json", "").Body, &set); err != nil || len(set.Keys) != 2 {
			t.Fatalf("JWKS should publish both keys: %v %v", set, err)
		}
	})
}
