package e2e_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authd/authd/config"
)

// TestGoOIDCDefaultsAcceptAccessTokens: a Go service using coreos/go-oidc
// as its documentation shows (NewProvider on the issuer, Verifier with
// only ClientID, here authd's audience) accepts authd's access tokens,
// whatever the signing algorithm. go-oidc takes the algorithms from
// id_token_signing_alg_values_supported and assumes RS256 without it.
func TestGoOIDCDefaultsAcceptAccessTokens(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			s := startEmbedded(t, newClock(), func(cfg *config.Config) {
				cfg.SigningAlg = alg
				cfg.Audience = "https://api.example.com"
			})
			tk := s.signedUp("oidc@example.com")

			// The issuer is http://localhost:8080; the server listens on
			// another loopback port, so the client dials it for any host
			// (what DNS would do). go-oidc itself is left as it comes.
			addr := s.URL[len("http://"):]
			client := &http.Client{Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				},
			}}
			ctx := oidc.ClientContext(t.Context(), client)
			provider, err := oidc.NewProvider(ctx, s.Config.Issuer)
			if err != nil {
				t.Fatalf("go-oidc cannot read the discovery document: %v", err)
			}
			verifier := provider.Verifier(&oidc.Config{ClientID: s.Config.Audience})
			got, err := verifier.Verify(ctx, tk.AccessToken)
			if err != nil {
				t.Fatalf("go-oidc refuses the access token: %v", err)
			}
			if got.Subject != claims(t, tk.AccessToken)["sub"] || got.Issuer != s.Config.Issuer {
				t.Fatalf("verified token: sub %q iss %q", got.Subject, got.Issuer)
			}
			var meta struct {
				Algs     []string `json:"id_token_signing_alg_values_supported"`
				Subjects []string `json:"subject_types_supported"`
				Response []string `json:"response_types_supported"`
			}
			if err := provider.Claims(&meta); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(meta.Algs, []string{alg}) || !slices.Equal(meta.Subjects, []string{"public"}) || meta.Response == nil {
				t.Fatalf("discovery: %+v", meta)
			}
			// The same verifier refuses the refresh token (HS256, a kid no
			// JWKS key has, aud the issuer).
			if _, err := verifier.Verify(ctx, tk.RefreshToken); err == nil {
				t.Fatal("go-oidc accepts the refresh token")
			}
		})
	}
}
