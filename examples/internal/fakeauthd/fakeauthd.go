// Package fakeauthd plays authd for the examples' tests: it serves the
// discovery document and JWK Set on loopback and signs access tokens as
// authd would (audience = issuer, authd's default).
package fakeauthd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/pkg/token"
)

// Server is a fake authd.
type Server struct {
	// URL is the issuer.
	URL string
	key *token.Key
	seq atomic.Int64
}

// Start runs a fake authd until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	key, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := token.NewJWKS([]*token.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": s.URL, "jwks_uri": s.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(jwks)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Token is an access token for user-1 with roles, and its jti.
func (s *Server) Token(t testing.TB, roles ...string) (raw, jti string) {
	t.Helper()
	now := time.Now()
	jti = "jti-" + strconv.FormatInt(s.seq.Add(1), 10)
	raw, err := token.Sign(s.key, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: s.URL, Subject: "user-1", Audience: token.ClaimStrings{s.URL}, ID: jti,
			IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(now.Add(15 * time.Minute)),
		},
		SessionID: "sid-1",
		Roles:     roles,
		Scope:     "read",
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw, jti
}
