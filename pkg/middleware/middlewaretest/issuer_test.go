package middlewaretest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/middleware/middlewaretest"
	"github.com/authd/authd/pkg/revocation"
)

// TestMintedClaims: what a test chooses is what the Verifier sees, and the
// defaults are the documented ones.
func TestMintedClaims(t *testing.T) {
	authd := middlewaretest.Start(t)
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(authd.URL),
		middleware.WithAudience(authd.Audience),
		middleware.WithJWKSURL(authd.JWKSURL()),
		middleware.WithRevocation(authd.Checker(), middleware.FailClosed),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	iat := time.Now().Add(-time.Minute).Truncate(time.Second)
	tests := []struct {
		name    string
		claims  middlewaretest.Token
		subject string
		sid     string
		roles   int
		exp     time.Time
	}{
		{"defaults", middlewaretest.Token{IssuedAt: iat}, "user-1", "sid-1", 0, iat.Add(15 * time.Minute)},
		{"chosen", middlewaretest.Token{Subject: "alice", SessionID: "s-9", Roles: []string{"admin", "user"}, IssuedAt: iat, ExpiresAt: iat.Add(5 * time.Minute)}, "alice", "s-9", 2, iat.Add(5 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := authd.Mint(tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.subject || c.SessionID != tt.sid || len(c.Roles) != tt.roles || !c.ExpiresAt.Equal(tt.exp) || !c.IssuedAt.Equal(iat) {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

// TestRevoke: a revoked jti or session is refused, others pass.
func TestRevoke(t *testing.T) {
	authd := middlewaretest.Start(t)
	check := authd.Checker()
	authd.Revoke("jti-a")
	authd.RevokeSession("sid-b")
	tests := []struct {
		name    string
		tok     revocation.Token
		revoked bool
	}{
		{"revoked jti", revocation.Token{JTI: "jti-a", SID: "sid-x"}, true},
		{"revoked session", revocation.Token{JTI: "jti-z", SID: "sid-b"}, true},
		{"neither", revocation.Token{JTI: "jti-z", SID: "sid-x"}, false},
		{"no sid", revocation.Token{JTI: "jti-z"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check.Check(t.Context(), tt.tok)
			if got := errors.Is(err, revocation.ErrRevoked); got != tt.revoked || !tt.revoked && err != nil {
				t.Errorf("Check(%+v) = %v, want revoked %v", tt.tok, err, tt.revoked)
			}
		})
	}
}
