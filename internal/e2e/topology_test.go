package e2e_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
)

// TestTopologyFlows runs the logout and refresh flows on a Redis Cluster
// (3 primaries, 3 replicas) and on Sentinel (primary, replica, three
// sentinels), both started on spare ports, with Postgres as the store.
// The denylist keys of one check live in one slot only if the v2 layout
// holds, and Sentinel routes through the failover client, so these are
// the flows a single Redis cannot vouch for.
func TestTopologyFlows(t *testing.T) {
	topologies := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"cluster", func(t *testing.T) string { return testenv.RedisCluster(t).URL }},
		{"sentinel", func(t *testing.T) string { return testenv.RedisSentinel(t).URL }},
	}
	for _, tc := range topologies {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.DataDir = t.TempDir()
			cfg.DatabaseURL = testenv.Postgres(t)
			cfg.RedisURL = tc.url(t)
			cfg.RedisKeyPrefix = testenv.RandomName("authd_topo_")
			cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			clk := newClock()
			s := start(t, cfg, clk)
			topologyFlows(t, s, clk, cfg.RefreshReuseGrace)
		})
	}
}

// topologyFlows is login, rotation, logout of one session, logout
// everywhere and refresh-token reuse against one running server.
func topologyFlows(t *testing.T, s *server, clk *clock, grace time.Duration) {
	const password = "correct horse battery"
	s.register("topo@example.com", password)
	login := func() tokens { return s.login("topo@example.com", password) }
	wantVerify := func(t *testing.T, access string, want int) {
		t.Helper()
		if got := s.verifyStatus(access); got != want {
			t.Fatalf("/v1/verify = %d, want %d", got, want)
		}
	}
	wantStatus := func(t *testing.T, what string, r response, want int) {
		t.Helper()
		if r.Status != want {
			t.Fatalf("%s: %d, want %d; body %s", what, r.Status, want, r.Body)
		}
	}
	// refused: the access token fails /v1/verify and the refresh token
	// the token endpoint.
	refused := func(t *testing.T, x ...tokens) {
		t.Helper()
		for _, tk := range x {
			wantVerify(t, tk.AccessToken, http.StatusUnauthorized)
			s.refresh(tk.RefreshToken).wantError(t, 400, "invalid_grant")
		}
	}

	t.Run("rotation", func(t *testing.T) {
		a := login()
		wantVerify(t, a.AccessToken, http.StatusOK)
		r := s.refresh(a.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		b := decodeTokens(t, r)
		if claims(t, b.RefreshToken)["jti"] == claims(t, a.RefreshToken)["jti"] {
			t.Fatal("refresh token did not rotate")
		}
		wantVerify(t, b.AccessToken, http.StatusOK)
	})

	t.Run("logout one session", func(t *testing.T) {
		a, other := login(), login()
		wantStatus(t, "logout", s.logout(a.AccessToken, ""), http.StatusNoContent)
		refused(t, a)
		wantVerify(t, other.AccessToken, http.StatusOK)
		wantStatus(t, "another session cannot refresh", s.refresh(other.RefreshToken), http.StatusOK)
	})

	t.Run("logout everywhere", func(t *testing.T) {
		a, b := login(), login()
		wantStatus(t, "logout global", s.logout(a.AccessToken, "global"), http.StatusNoContent)
		refused(t, a, b)
		// The cutoff is in the past for a token issued after it. Tokens
		// carry whole seconds, so move past the cutoff's second first.
		clk.Advance(time.Second)
		wantVerify(t, login().AccessToken, http.StatusOK)
	})

	t.Run("reuse revokes the family", func(t *testing.T) {
		first := login()
		r := s.refresh(first.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		second := decodeTokens(t, r)
		clk.Advance(grace + time.Second)
		s.refresh(first.RefreshToken).wantError(t, 400, "invalid_grant")
		refused(t, second)
	})
}
