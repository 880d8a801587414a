package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

// jwksKids returns the kids a server publishes.
func (s *server) jwksKids() []string {
	s.t.Helper()
	var set token.JWKS
	if err := json.Unmarshal(s.get("/.well-known/jwks.json", "").Body, &set); err != nil {
		s.t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

// verifyStatus is the status of /v1/verify for an access token.
func (s *server) verifyStatus(access string) int {
	s.t.Helper()
	return s.get("/v1/verify", access).Status
}

// waitRefused polls /v1/verify until it refuses access, and returns how
// long that took; it fails the test after limit.
func (s *server) waitRefused(access string, limit time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	for s.verifyStatus(access) != http.StatusUnauthorized {
		if time.Since(start) > limit {
			s.t.Fatalf("a token of the revoked key was still accepted after %v", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func kidOf(t testing.TB, jwt string) string {
	t.Helper()
	kid, _ := header(t, jwt)["kid"].(string)
	return kid
}

// forgeWith signs an access token with k for the subject and session of a
// real one, as a holder of a leaked key would: admin, thirty days.
func forgeWith(t testing.TB, k *token.Key, real string, issuedAt time.Time, life time.Duration) string {
	t.Helper()
	c := claims(t, real)
	aud, _ := c["aud"].(string)
	if aud == "" {
		aud, _ = c["aud"].([]any)[0].(string)
	}
	raw, err := token.Sign(k, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: c["iss"].(string), Subject: c["sub"].(string), Audience: token.ClaimStrings{aud}, ID: "forged",
			IssuedAt: token.NewNumericDate(issuedAt), ExpiresAt: token.NewNumericDate(issuedAt.Add(life)),
		},
		SessionID: c["sid"].(string), Roles: []string{"admin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Access tokens carry "roles" as [] for a user with none.
func TestAccessTokenRolesAlwaysPresent(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)
	tk := s.signedUp("noroles@example.com")
	roles, ok := claims(t, tk.AccessToken)["roles"]
	if arr, isArr := roles.([]any); !ok || !isArr || len(arr) != 0 {
		t.Fatalf("roles claim = %#v (present %v), want []", roles, ok)
	}
}

// A token minted with the real signing key but a lifetime longer than
// AUTHD_ACCESS_TTL is refused by /v1/verify and /v1/me.
func TestOverlongAccessTokenRefused(t *testing.T) {
	clk := newClock()
	s := startEmbedded(t, clk, nil)
	tk := s.signedUp("long@example.com")
	k, err := s.App.Keys().SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	fair := forgeWith(t, k, tk.AccessToken, clk.Now(), s.Config.AccessTTL)
	long := forgeWith(t, k, tk.AccessToken, clk.Now(), 30*24*time.Hour)
	if st := s.verifyStatus(fair); st != http.StatusOK {
		t.Fatalf("a token of AUTHD_ACCESS_TTL: /v1/verify %d", st)
	}
	if st := s.verifyStatus(long); st != http.StatusUnauthorized {
		t.Fatalf("a 30-day token: /v1/verify %d, want 401", st)
	}
	s.get("/v1/me", long).wantError(t, http.StatusUnauthorized, "invalid_token")
}

// `authd keys rotate --now` and `authd keys revoke KID` (the real binary)
// distrust the replaced key: the running server drops it from the JWKS
// at its next reload and refuses its access tokens on /v1/verify and
// /v1/me, while refresh tokens MACed under it rotate onto the new key.
func TestCLIKeysRevoke(t *testing.T) {
	dir := t.TempDir()
	c := newEmbeddedCLI(t, dir)
	clk := newClock()
	cfg := testConfig()
	cfg.DataDir = dir
	cfg.KeyReloadInterval = time.Second
	s := start(t, cfg, clk)

	tk := s.signedUp("victim@example.com")
	leaked := kidOf(t, tk.AccessToken)
	if st := s.verifyStatus(tk.AccessToken); st != http.StatusOK {
		t.Fatalf("before: /v1/verify %d", st)
	}

	out := c.mustRun("", "keys", "rotate", "--now")
	if !strings.Contains(out, "signs from now on") || !strings.Contains(out, "revoked "+leaked) {
		t.Fatalf("keys rotate --now: %s", out)
	}
	took := s.waitRefused(tk.AccessToken, 10*time.Second)
	t.Logf("the server refused the replaced key's token %v after keys rotate --now (AUTHD_KEY_RELOAD_INTERVAL %v)", took.Round(time.Millisecond), cfg.KeyReloadInterval)
	s.get("/v1/me", tk.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
	kids := s.jwksKids()
	if len(kids) != 1 || kids[0] == leaked {
		t.Fatalf("JWKS kids after rotate --now = %v, want only the new key", kids)
	}
	second := kids[0]
	// The CLI's key activates at its wall clock; the server's is frozen
	// at the test's start.
	clk.Advance(time.Minute)

	// The session's refresh token was MACed under the revoked key's id: it
	// still rotates, onto the new key.
	r := s.refresh(tk.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh after revocation: %d %s", r.Status, r.Body)
	}
	moved := decodeTokens(t, r)
	if kidOf(t, moved.AccessToken) != second {
		t.Fatalf("refreshed access token kid %s, want %s", kidOf(t, moved.AccessToken), second)
	}
	if st := s.verifyStatus(moved.AccessToken); st != http.StatusOK {
		t.Fatalf("new key's token: /v1/verify %d", st)
	}

	// keys revoke on the key that signs: a replacement signs at once.
	out = c.mustRun("", "keys", "revoke", second)
	if !strings.Contains(out, "signing key "+second+" revoked") || !strings.Contains(out, "new signing key") {
		t.Fatalf("keys revoke: %s", out)
	}
	s.waitRefused(moved.AccessToken, 10*time.Second)
	clk.Advance(time.Minute)
	third := s.login("victim@example.com", "correct horse battery")
	if k := kidOf(t, third.AccessToken); k == leaked || k == second {
		t.Fatalf("login after revoke signs with revoked key %s", k)
	}
	if st := s.verifyStatus(third.AccessToken); st != http.StatusOK {
		t.Fatalf("replacement key's token: /v1/verify %d", st)
	}

	list := c.mustRun("", "keys", "list")
	if !strings.Contains(list, "REVOKED") || strings.Count(list, "\n") != 4 {
		t.Fatalf("keys list should show a header and 3 keys:\n%s", list)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		fields := strings.Fields(line)
		revoked := fields[len(fields)-1] != "-"
		if want := fields[0] == leaked || fields[0] == second; revoked != want {
			t.Errorf("keys list: %s revoked=%v, want %v:\n%s", fields[0], revoked, want, list)
		}
	}
	if out, err := c.run("", "keys", "revoke", "no-such-kid"); err == nil || !strings.Contains(out, "no signing key") {
		t.Fatalf("keys revoke of an unknown kid: %v %s", err, out)
	}
	if out, err := c.run("", "keys", "revoke"); err == nil {
		t.Fatalf("keys revoke without a kid: %s", out)
	}
	audit := c.mustRun("", "audit", "tail", "-n", "50")
	// audit tail shortens the detail: the kids' first characters name them.
	if strings.Count(audit, "key_revocation") != 2 {
		t.Errorf("audit tail should show 2 key revocations:\n%s", audit)
	}
	for _, kid := range []string{leaked, second} {
		if !strings.Contains(audit, "key_revocation  success  kid:"+kid[:20]) {
			t.Errorf("audit tail lacks the revocation of %s:\n%s", kid, audit)
		}
	}
}

// Two replicas on one Postgres: a key revoked through one (the service
// path the CLI uses) is refused there at once and on the other within
// AUTHD_KEY_RELOAD_INTERVAL, or sooner when a token of the new key reaches
// it first (its unknown kid makes it reload). A service verifying through
// the JWKS (pkg/middleware RemoteKeySet) refuses it after its refetch.
func TestKeyRevocationReachesSecondReplica(t *testing.T) {
	dsn := testenv.Postgres(t)
	replicas := func(reload time.Duration) (*server, *server, *clock) {
		clk := newClock()
		cfg := testConfig()
		cfg.DatabaseURL = dsn
		cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		cfg.KeyReloadInterval = reload
		one, two := cfg, cfg
		one.DataDir, two.DataDir = t.TempDir(), t.TempDir()
		return start(t, one, clk), start(t, two, clk), clk
	}

	t.Run("reload interval", func(t *testing.T) {
		s1, s2, clk := replicas(time.Second)
		tk := s1.signedUp("two-replicas@example.com")
		if s1.verifyStatus(tk.AccessToken) != http.StatusOK || s2.verifyStatus(tk.AccessToken) != http.StatusOK {
			t.Fatal("both replicas should accept the token before revocation")
		}
		rks, err := middleware.NewRemoteKeySet(context.Background(), s2.URL+"/.well-known/jwks.json", middleware.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rks.Close() })
		mw, err := middleware.NewVerifier(middleware.WithIssuer(testConfig().Issuer), middleware.WithAudience(testConfig().EffectiveAudience()),
			middleware.WithKeySet(rks), middleware.WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mw.Verify(context.Background(), tk.AccessToken); err != nil {
			t.Fatalf("middleware before revocation: %v", err)
		}

		leaked := kidOf(t, tk.AccessToken)
		start := time.Now()
		if _, err := s1.App.Keys().Revoke(context.Background(), leaked); err != nil {
			t.Fatal(err)
		}
		if st := s1.verifyStatus(tk.AccessToken); st != http.StatusUnauthorized {
			t.Fatalf("the revoking replica still accepts the token: %d", st)
		}
		took := s2.waitRefused(tk.AccessToken, 10*time.Second)
		since := time.Since(start)
		t.Logf("revoked key's token refused on replica 2 after %v (polled from the revocation: %v; AUTHD_KEY_RELOAD_INTERVAL 1s)",
			took.Round(time.Millisecond), since.Round(time.Millisecond))
		// Bounded by the reload interval, with margin for a loaded machine.
		if since > time.Second+3*time.Second {
			t.Errorf("replica 2 took %v, more than the reload interval plus margin", since)
		}
		s2.get("/v1/me", tk.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
		for _, kid := range s2.jwksKids() {
			if kid == leaked {
				t.Fatal("replica 2 still publishes the revoked key")
			}
		}
		if err := rks.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := mw.Verify(context.Background(), tk.AccessToken); err == nil {
			t.Fatal("the middleware accepts the revoked key's token after its JWKS refresh")
		}
	})

	t.Run("new key's token first", func(t *testing.T) {
		s1, s2, clk := replicas(time.Hour) // no timed reload during the test
		tk := s1.signedUp("two-replicas-kid@example.com")
		if s2.verifyStatus(tk.AccessToken) != http.StatusOK {
			t.Fatal("replica 2 should accept the token before revocation")
		}
		clk.Advance(10 * time.Second) // past the unknown-kid reload rate limit
		start := time.Now()
		if _, err := s1.App.Keys().Revoke(context.Background(), kidOf(t, tk.AccessToken)); err != nil {
			t.Fatal(err)
		}
		if st := s2.verifyStatus(tk.AccessToken); st != http.StatusOK {
			t.Fatalf("replica 2 refused before any reload (%d): the test no longer shows the unknown-kid path", st)
		}
		fresh := s1.login("two-replicas-kid@example.com", "correct horse battery")
		if st := s2.verifyStatus(fresh.AccessToken); st != http.StatusOK {
			t.Fatalf("replica 2 refused the new key's token: %d", st)
		}
		if st := s2.verifyStatus(tk.AccessToken); st != http.StatusUnauthorized {
			t.Fatalf("replica 2 accepts the revoked key's token after the new kid made it reload: %d", st)
		}
		t.Logf("with a new-key token reaching replica 2 first: refused %v after the revocation", time.Since(start).Round(time.Millisecond))
	})
}

// After a rotation the retired key is still published (its tokens live
// on) but a token it signs with an iat after its retirement is refused,
// by authd and by a JWKS verifier reading authd_retired_at.
func TestTokenIssuedAfterKeyRetirementRefused(t *testing.T) {
	clk := newClock()
	s := startEmbedded(t, clk, nil)
	tk := s.signedUp("retired@example.com")
	old, err := s.App.Keys().SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Keys().Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	retiredAt := clk.Now().Add(app.PublishAhead(s.Config))
	clk.Advance(app.PublishAhead(s.Config) + time.Minute)
	before := forgeWith(t, old, tk.AccessToken, retiredAt.Add(-time.Minute), s.Config.AccessTTL)
	after := forgeWith(t, old, tk.AccessToken, clk.Now(), s.Config.AccessTTL)
	if st := s.verifyStatus(before); st != http.StatusOK {
		t.Fatalf("retired key's token issued before its retirement: /v1/verify %d", st)
	}
	if st := s.verifyStatus(after); st != http.StatusUnauthorized {
		t.Fatalf("retired key's token issued after its retirement: /v1/verify %d, want 401", st)
	}
	mw, err := middleware.NewVerifier(middleware.WithIssuer(s.Config.Issuer), middleware.WithAudience(s.Config.EffectiveAudience()),
		middleware.WithJWKSURL(s.URL+"/.well-known/jwks.json"), middleware.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mw.Close() })
	if _, err := mw.Verify(context.Background(), before); err != nil {
		t.Fatalf("JWKS verifier, issued before retirement: %v", err)
	}
	if _, err := mw.Verify(context.Background(), after); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("JWKS verifier, issued after retirement: %v, want ErrInvalidToken", err)
	}
}
