package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestJWKSVerifiesWithIndependentJOSE(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			cfg := testConfig()
			cfg.SigningAlg = alg
			cfg.DataDir = t.TempDir()
			s := start(t, cfg, newClock())
			tk := s.signedUp("ivy@example.com")

			r := s.get("/.well-known/jwks.json", "")
			if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "max-age=") {
				t.Fatalf("jwks: %d %q", r.Status, r.Header.Get("Cache-Control"))
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(r.Body, &set); err != nil {
				t.Fatalf("go-jose cannot read our JWKS: %v", err)
			}
			if strings.Contains(string(r.Body), `"d"`) {
				t.Fatal("JWKS contains private key material")
			}
			sig, err := jose.ParseSigned(tk.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("go-jose parse: %v", err)
			}
			kid := sig.Signatures[0].Header.KeyID
			keys := set.Key(kid)
			if len(keys) != 1 || keys[0].Use != "sig" || keys[0].Algorithm != alg {
				t.Fatalf("JWKS entry for kid %q: %+v", kid, keys)
			}
			payload, err := sig.Verify(keys[0].Key)
			if err != nil {
				t.Fatalf("go-jose verify with JWKS key: %v", err)
			}
			var c map[string]any
			if err := json.Unmarshal(payload, &c); err != nil || c["iss"] != cfg.Issuer {
				t.Fatalf("payload %s: %v", payload, err)
			}

			// The refresh token is for authd alone: HS256 under a secret
			// that is never published, with a kid no JWKS entry has.
			rsig, err := jose.ParseSigned(tk.RefreshToken, []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				t.Fatalf("go-jose parse of the refresh token: %v", err)
			}
			h := rsig.Signatures[0].Header
			if len(set.Key(h.KeyID)) != 0 || !strings.HasPrefix(h.KeyID, "r.") || h.ExtraHeaders["typ"] != "refresh+jwt" {
				t.Fatalf("refresh token header %+v: want HS256, typ refresh+jwt, a kid outside the JWKS", h)
			}
			for _, k := range set.Keys {
				if _, err := rsig.Verify(k.Key); err == nil {
					t.Fatalf("the refresh token verifies with published key %s", k.KeyID)
				}
			}
		})
	}
}

func TestDiscoveryAndHealth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
			r := s.get(path, "")
			if r.Status != 200 {
				t.Fatalf("%s: %d", path, r.Status)
			}
			m := r.JSON(t)
			if m["issuer"] != s.Config.Issuer || m["jwks_uri"] != s.Config.Issuer+"/.well-known/jwks.json" || m["token_endpoint"] != s.Config.Issuer+"/v1/token" {
				t.Fatalf("%s: %s", path, r.Body)
			}
			if contains(m["grant_types_supported"], "password") || !contains(m["grant_types_supported"], "refresh_token") {
				t.Fatalf("grant_types_supported: %v", m["grant_types_supported"])
			}
		}
		if r := s.get("/healthz", ""); r.Status != 200 {
			t.Fatalf("healthz: %d", r.Status)
		}
		if r := s.get("/readyz", ""); r.Status != 200 {
			t.Fatalf("readyz: %d %s", r.Status, r.Body)
		}
		s.get("/v1/nope", "").wantError(t, 404, "not_found")
		s.do("DELETE", "/v1/me", "", "", nil).wantError(t, 405, "method_not_allowed")
		if r := s.get("/healthz", ""); r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("security headers missing")
		}
	})
}
