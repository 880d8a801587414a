package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
)

// staticJWKS publishes a fixed JWK Set.
type staticJWKS string

func (j staticJWKS) JWKS() []byte { return []byte(j) }

func TestDiscoveryOIDCMembers(t *testing.T) {
	tests := []struct {
		name string
		jwks string
		want []string
	}{
		{"one key", `{"keys":[{"kty":"EC","kid":"a","alg":"ES256","use":"sig"}]}`, []string{"ES256"}},
		{"rotation to another algorithm", `{"keys":[{"kid":"a","alg":"ES256"},{"kid":"b","alg":"EdDSA"},{"kid":"c","alg":"ES256"}]}`, []string{"ES256", "EdDSA"}},
		{"no keys", `{"keys":[]}`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &API{cfg: Config{Issuer: "https://auth.example.com"}, keys: staticJWKS(tt.jwks), log: slog.New(slog.DiscardHandler)}
			gin.SetMode(gin.ReleaseMode)
			r := gin.New()
			r.GET("/.well-known/openid-configuration", a.discovery)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil))
			var doc struct {
				Algs      []string `json:"id_token_signing_alg_values_supported"`
				Subjects  []string `json:"subject_types_supported"`
				Responses []string `json:"response_types_supported"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(doc.Algs, tt.want) || doc.Algs == nil {
				t.Fatalf("id_token_signing_alg_values_supported = %v, want %v", doc.Algs, tt.want)
			}
			if !slices.Equal(doc.Subjects, []string{"public"}) || doc.Responses == nil || len(doc.Responses) != 0 {
				t.Fatalf("subject_types_supported %v, response_types_supported %v", doc.Subjects, doc.Responses)
			}
		})
	}
}

// Discovery lists the client_credentials grant and its authentication
// methods from the service's grant table, and always the introspection
// endpoint (a client token with authd:introspect may call it), with Basic
// only when a credential is configured.
func TestDiscoveryClientMembers(t *testing.T) {
	tests := []struct {
		name    string
		secret  clientSecret
		methods []string
	}{
		{"no introspection credential", clientSecret{}, []string{"Bearer"}},
		{"introspection credential", newClientSecret("kong", "s3cret"), []string{"client_secret_basic", "Bearer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &API{cfg: Config{Issuer: "https://auth.example.com"}, keys: staticJWKS(`{"keys":[]}`), log: slog.New(slog.DiscardHandler),
				introspection: tt.secret}
			gin.SetMode(gin.ReleaseMode)
			r := gin.New()
			r.GET("/.well-known/openid-configuration", a.discovery)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil))
			var doc struct {
				Grants        []string `json:"grant_types_supported"`
				AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
				Introspection string   `json:"introspection_endpoint"`
				IntroMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(doc.Grants, []string{"refresh_token", "client_credentials"}) ||
				!slices.Equal(doc.AuthMethods, []string{"none", "client_secret_basic", "client_secret_post"}) {
				t.Fatalf("grants %v, auth methods %v", doc.Grants, doc.AuthMethods)
			}
			if doc.Introspection != "https://auth.example.com/v1/introspect" || !slices.Equal(doc.IntroMethods, tt.methods) {
				t.Fatalf("introspection %q %v, want methods %v", doc.Introspection, doc.IntroMethods, tt.methods)
			}
		})
	}
}
