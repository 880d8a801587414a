package middleware_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/redis/go-redis/v9"
)

func revocationVerifier(t *testing.T, k *token.Key, c denylist.Checker, p middleware.FailurePolicy, opts ...middleware.Option) *middleware.Verifier {
	t.Helper()
	v, err := middleware.NewVerifier(append([]middleware.Option{
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(token.StaticKeySet{k}),
		middleware.WithRevocation(c, p),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRevocationRedis checks tokens against the real Redis denylist that
// authd writes, for every kind of entry and both policies.
func TestRevocationRedis(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	k := testKey(t, token.ES256, 0)
	ctx := t.Context()
	now := time.Now()
	until := now.Add(time.Hour)

	type tok struct{ jti, sid, sub string }
	tokenOf := func(x tok, iat time.Time) string {
		return mint(t, k, iat, func(c *token.Payload) { c.ID, c.SessionID, c.Subject = x.jti, x.sid, x.sub })
	}
	live := tok{"jti-live", "sid-live", "sub-live"}
	byJTI := tok{"jti-revoked", "sid-a", "sub-a"}
	bySID := tok{"jti-b", "sid-revoked", "sub-b"}
	byUser := tok{"jti-c", "sid-c", "sub-revoked"}
	if err := dl.RevokeToken(ctx, byJTI.sub, byJTI.jti, until); err != nil {
		t.Fatal(err)
	}
	if err := dl.RevokeSessions(ctx, bySID.sub, []string{bySID.sid}, until); err != nil {
		t.Fatal(err)
	}
	if err := dl.RevokeUserBefore(ctx, byUser.sub, now.Add(-10*time.Second), until); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		raw     string
		revoked bool
	}{
		{"not revoked", tokenOf(live, now), false},
		{"jti revoked", tokenOf(byJTI, now), true},
		{"sid revoked", tokenOf(bySID, now), true},
		{"issued before the user's cutoff", tokenOf(byUser, now.Add(-20*time.Second)), true},
		{"issued after the user's cutoff", tokenOf(byUser, now), false},
	}
	for _, policy := range []middleware.FailurePolicy{middleware.FailClosed, middleware.FailOpen} {
		v := revocationVerifier(t, k, dl, policy)
		for _, tt := range tests {
			t.Run(policy.String()+"/"+tt.name, func(t *testing.T) {
				_, err := v.Verify(ctx, tt.raw)
				if !tt.revoked {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, middleware.ErrRevoked) || !errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, denylist.ErrRevoked) {
					t.Fatalf("err = %v, want ErrRevoked and ErrInvalidToken", err)
				}
				resp := serve(t, v.Handler(whoami), "Bearer "+tt.raw)
				if resp.status != http.StatusUnauthorized || resp.body["error"] != "invalid_token" ||
					!strings.HasPrefix(resp.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
					t.Fatalf("answer = %d %v %v", resp.status, resp.header, resp.body)
				}
			})
		}
	}
}

// TestRevocationRedisDown checks both policies when Redis does not answer.
func TestRevocationRedisDown(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer client.Close()
	dl := denylist.NewRedis(client)
	k := testKey(t, token.ES256, 0)
	raw := mint(t, k, time.Now(), nil)

	t.Run("FailClosed answers 503", func(t *testing.T) {
		v := revocationVerifier(t, k, dl, middleware.FailClosed)
		_, err := v.Verify(t.Context(), raw)
		if !errors.Is(err, middleware.ErrUnavailable) || errors.Is(err, middleware.ErrInvalidToken) || !errors.Is(err, denylist.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable, not ErrInvalidToken", err)
		}
		resp := serve(t, v.Handler(whoami), "Bearer "+raw)
		if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" ||
			resp.header.Get("WWW-Authenticate") != "" || resp.body["error"] != "temporarily_unavailable" {
			t.Fatalf("answer = %d %v %v", resp.status, resp.header, resp.body)
		}
	})
	t.Run("FailOpen passes and logs", func(t *testing.T) {
		var logs bytes.Buffer
		v := revocationVerifier(t, k, dl, middleware.FailOpen,
			middleware.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		resp := serve(t, v.Handler(whoami), "Bearer "+raw)
		if resp.status != http.StatusOK || resp.raw != "user-1" {
			t.Fatalf("answer = %d %s", resp.status, resp.raw)
		}
		if !strings.Contains(logs.String(), "FailOpen") || strings.Contains(logs.String(), raw) {
			t.Fatalf("log = %q: want a FailOpen warning without the token", logs.String())
		}
	})
}

// TestRevocationMirror: a denylist.Mirror is a revocation checker like
// any other; while it is out of sync FailClosed answers 503.
func TestRevocationMirror(t *testing.T) {
	client, prefix := testenv.Redis(t)
	dl := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix))
	mirror := denylist.NewMirror(t.Context(), client, denylist.WithKeyPrefix(prefix))
	t.Cleanup(func() { mirror.Close() })
	ctx := t.Context()
	if err := mirror.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	k := testKey(t, token.ES256, 0)
	v := revocationVerifier(t, k, mirror, middleware.FailClosed)
	raw := mint(t, k, time.Now(), func(c *token.Payload) { c.ID = "jti-mirrored" })
	for range 2 { // verified, then from the cache
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := dl.RevokeToken(ctx, "user-1", "jti-mirrored", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := mirror.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, raw); !errors.Is(err, middleware.ErrRevoked) {
		t.Fatalf("revoked through the mirror: err = %v, want ErrRevoked", err)
	}

	unsynced := denylist.NewMirror(t.Context(), nil)
	t.Cleanup(func() { unsynced.Close() })
	v = revocationVerifier(t, k, unsynced, middleware.FailClosed)
	resp := serve(t, v.Handler(whoami), "Bearer "+mint(t, k, time.Now(), nil))
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
		t.Fatalf("mirror out of sync: answer = %d %v %v, want 503", resp.status, resp.header, resp.body)
	}
}
