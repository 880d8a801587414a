// Package middlewaretest is a fake authd for the tests of services that
// use pkg/middleware, as go-oidc's oidctest is for go-oidc: an in-process
// issuer on loopback that serves the discovery document and the JWK Set,
// mints access tokens with the claims a test chooses, and revokes them
// through a revocation.Checker the service's Verifier is given.
//
// It is for tests only: its keys live in memory and its tokens are signed
// for whatever the test asks. It imports neither pkg/denylist nor a Redis
// client, so using it adds nothing to a service's dependencies.
package middlewaretest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/pkg/revocation"
	"github.com/authd/authd/pkg/token"
)

// Issuer is a fake authd. Its zero value is not usable; create one with
// NewIssuer or Start.
type Issuer struct {
	// URL is the issuer identifier and the base of its endpoints.
	URL string
	// Audience is the audience tokens get unless the Token says otherwise:
	// the issuer URL, as authd's default.
	Audience string

	srv *httptest.Server
	key *token.Key
	seq atomic.Int64

	mu         sync.Mutex
	jtis, sids map[string]bool
}

// Token is the access token Mint signs, claim by claim. A zero field takes a
// default: Subject "user-1", SessionID "sid-1", Audience the issuer's,
// ID a fresh "jti-N", IssuedAt now and ExpiresAt 15 minutes later.
type Token struct {
	Subject   string
	SessionID string
	ClientID  string
	Audience  []string
	ID        string
	Roles     []string
	Scope     string
	AMR       []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	NotBefore time.Time // zero: no nbf claim
	AuthTime  time.Time // zero: no auth_time claim
}

// NewIssuer starts a fake authd signing with a fresh ES256 key. Close
// stops it.
func NewIssuer() (*Issuer, error) {
	key, err := token.GenerateKey(token.ES256)
	if err != nil {
		return nil, fmt.Errorf("middlewaretest: %w", err)
	}
	jwks, err := token.NewJWKS([]*token.Key{key})
	if err != nil {
		return nil, fmt.Errorf("middlewaretest: %w", err)
	}
	s := &Issuer{key: key, jtis: map[string]bool{}, sids: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": s.URL, "jwks_uri": s.JWKSURL()})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(jwks)
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.Audience = s.URL
	return s, nil
}

// Start is NewIssuer for a test: it fails t on error and closes the
// issuer when the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	s, err := NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the issuer's server.
func (s *Issuer) Close() { s.srv.Close() }

// JWKSURL is the URL of the issuer's JWK Set, for middleware.WithJWKSURL.
func (s *Issuer) JWKSURL() string { return s.URL + "/.well-known/jwks.json" }

// Mint signs an access token with c, defaults filled in.
func (s *Issuer) Mint(c Token) (string, error) {
	now := time.Now()
	if c.Subject == "" {
		c.Subject = "user-1"
	}
	if c.SessionID == "" {
		c.SessionID = "sid-1"
	}
	if len(c.Audience) == 0 {
		c.Audience = []string{s.Audience}
	}
	if c.ID == "" {
		c.ID = "jti-" + strconv.FormatInt(s.seq.Add(1), 10)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(15 * time.Minute)
	}
	p := &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: s.URL, Subject: c.Subject, Audience: c.Audience, ID: c.ID,
			IssuedAt: token.NewNumericDate(c.IssuedAt), ExpiresAt: token.NewNumericDate(c.ExpiresAt),
		},
		SessionID: c.SessionID, ClientID: c.ClientID, Roles: c.Roles, Scope: c.Scope, AMR: c.AMR,
	}
	if !c.NotBefore.IsZero() {
		p.NotBefore = token.NewNumericDate(c.NotBefore)
	}
	if !c.AuthTime.IsZero() {
		p.AuthTime = token.NewNumericDate(c.AuthTime)
	}
	raw, err := token.Sign(s.key, token.TypeAccess, p)
	if err != nil {
		return "", fmt.Errorf("middlewaretest: %w", err)
	}
	return raw, nil
}

// Token mints a default access token with roles, failing t on error, and
// returns it with its jti (for Revoke).
func (s *Issuer) Token(t testing.TB, roles ...string) (raw, jti string) {
	t.Helper()
	jti = "jti-" + strconv.FormatInt(s.seq.Add(1), 10)
	raw, err := s.Mint(Token{ID: jti, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return raw, jti
}

// Revoke refuses the token with id jti from now on, in every Verifier
// given Checker.
func (s *Issuer) Revoke(jti string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jtis[jti] = true
}

// RevokeSession refuses every token of session sid from now on.
func (s *Issuer) RevokeSession(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sids[sid] = true
}

// Checker is the issuer's revocation check, for middleware.WithRevocation.
func (s *Issuer) Checker() revocation.Checker { return checker{s} }

type checker struct{ s *Issuer }

var errRevoked = fmt.Errorf("%w: revoked by middlewaretest", revocation.ErrRevoked)

// Check refuses a token whose jti or sid was revoked.
func (c checker) Check(_ context.Context, t revocation.Token) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.jtis[t.JTI] || t.SID != "" && c.s.sids[t.SID] {
		return errRevoked
	}
	return nil
}
