package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/store"
)

// adminToken signs up email, grants it the admin role through the
// service, and logs in again so that the token carries it.
func (s *server) adminToken(email string) string {
	s.t.Helper()
	tk := s.signedUp(email)
	sub := claims(s.t, tk.AccessToken)["sub"].(string)
	if err := s.App.Service().GrantRole(s.t.Context(), auth.Actor{}, sub, "admin"); err != nil {
		s.t.Fatal(err)
	}
	return s.login(email, "correct horse battery").AccessToken
}

// createdClient is the admin API's answer to a client creation.
type createdClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
	Audiences    []string `json:"audiences"`
}

func (s *server) createClient(bearer string, body map[string]any) createdClient {
	s.t.Helper()
	r := s.admin("POST", "/v1/admin/clients", bearer, body).want(s.t, http.StatusCreated)
	var c createdClient
	if err := json.Unmarshal(r.Body, &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		s.t.Fatalf("create client: %v %s", err, r.Body)
	}
	return c
}

// basicAuth is client_secret_basic as RFC 6749 §2.3.1 says: id and secret
// form-urlencoded, then Basic-encoded.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// clientGrant asks for a client_credentials token with client_secret_basic
// and the extra form parameters.
func (s *server) clientGrant(id, secret string, form url.Values) response {
	s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("grant_type", "client_credentials")
	return s.do("POST", "/v1/token", "application/x-www-form-urlencoded", form.Encode(),
		map[string]string{"Authorization": basicAuth(id, secret)})
}

type clientTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken *string
}

func decodeClientToken(t *testing.T, r response) clientTokenResponse {
	t.Helper()
	r.want(t, http.StatusOK)
	var raw map[string]any
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["refresh_token"]; ok {
		t.Fatalf("a client's answer has a refresh token: %s", r.Body)
	}
	if _, ok := raw["refresh_expires_in"]; ok {
		t.Fatalf("a client's answer has refresh_expires_in: %s", r.Body)
	}
	var tk clientTokenResponse
	_ = json.Unmarshal(r.Body, &tk)
	if tk.AccessToken == "" || tk.TokenType != "Bearer" || tk.ExpiresIn <= 0 {
		t.Fatalf("token response %s", r.Body)
	}
	return tk
}

func (s *server) introspectAs(authorization, tok string) response {
	s.t.Helper()
	return s.do("POST", "/v1/introspect", "application/x-www-form-urlencoded", url.Values{"token": {tok}}.Encode(),
		map[string]string{"Authorization": authorization})
}

// TestClientLifecycle: create through the admin API → grant with
// client_secret_basic and client_secret_post → a pkg/middleware Verifier on
// authd's JWKS with RequireScopes accepts it → secret rotation with grace
// → disable refuses the live token at /v1/verify and /v1/introspect.
func TestClientLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), withGateway)
		admin := s.adminToken("root@example.com")
		aud := s.Config.EffectiveAudience()

		c := s.createClient(admin, map[string]any{"name": "billing", "scopes": []string{"invoices:read", "invoices:write"},
			"audiences": []string{aud, "https://billing.example"}})
		if !strings.HasPrefix(c.ClientID, "svc_") || !slices.Equal(c.Audiences, []string{aud, "https://billing.example"}) {
			t.Fatalf("created %+v", c)
		}

		// client_secret_basic, default scope and audience.
		tk := decodeClientToken(t, s.clientGrant(c.ClientID, c.ClientSecret, nil))
		if tk.Scope != "invoices:read invoices:write" {
			t.Fatalf("scope %q", tk.Scope)
		}
		cl := claims(t, tk.AccessToken)
		if cl["sub"] != c.ClientID || cl["client_id"] != c.ClientID || cl["sid"] != nil ||
			len(cl["roles"].([]any)) != 0 || header(t, tk.AccessToken)["typ"] != "at+jwt" {
			t.Fatalf("claims %v", cl)
		}
		// client_secret_post, one scope, the other audience by resource.
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret},
			"scope": {"invoices:read"}, "resource": {"https://billing.example"}}
		post := decodeClientToken(t, s.do("POST", "/v1/token", "application/x-www-form-urlencoded", form.Encode(), nil))
		if post.Scope != "invoices:read" || claims(t, post.AccessToken)["aud"].([]any)[0] != "https://billing.example" {
			t.Fatalf("post grant: %+v %v", post, claims(t, post.AccessToken))
		}

		// A resource server verifying with pkg/middleware against the JWKS.
		v, err := middleware.NewVerifier(middleware.WithIssuer(s.Config.Issuer), middleware.WithAudience("https://billing.example"),
			middleware.WithJWKSURL(s.URL+"/.well-known/jwks.json"), middleware.WithClock(s.Clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		rs := httptest.NewServer(v.Handler(middleware.RequireScopes("invoices:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := middleware.ClaimsFrom(r.Context())
			if !c.IsClient() {
				http.Error(w, "not a client", http.StatusTeapot)
				return
			}
			w.Write([]byte(c.Subject))
		}))))
		t.Cleanup(rs.Close)
		callRS := func(tok string) int {
			req, _ := http.NewRequest("GET", rs.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := callRS(post.AccessToken); got != http.StatusOK {
			t.Fatalf("resource server: %d", got)
		}
		onlyWrite := decodeClientToken(t, s.clientGrant(c.ClientID, c.ClientSecret,
			url.Values{"scope": {"invoices:write"}, "audience": {"https://billing.example"}}))
		if got := callRS(onlyWrite.AccessToken); got != http.StatusForbidden {
			t.Fatalf("resource server with a token lacking the scope: %d", got)
		}

		// Gateway answers for the default-audience token.
		r := s.get("/v1/verify", tk.AccessToken).want(t, http.StatusOK)
		if r.Header.Get("X-Auth-Subject") != c.ClientID || r.Header.Get("X-Auth-Session") != "" ||
			r.Header.Get("X-Auth-Scope") != "invoices:read invoices:write" || r.Header.Get("X-Auth-Roles") != "" {
			t.Fatalf("verify headers %v", r.Header)
		}
		m := s.introspectAs("Basic "+base64.StdEncoding.EncodeToString([]byte("kong:introspection-secret-1234")), tk.AccessToken).
			want(t, http.StatusOK).JSON(t)
		if m["active"] != true || m["sub"] != c.ClientID || m["client_id"] != c.ClientID || m["sid"] != "" {
			t.Fatalf("introspection %v", m)
		}

		// Rotation with a grace of an hour: both secrets work, then only
		// the new one.
		rot := s.admin("POST", "/v1/admin/clients/"+c.ClientID+"/rotate-secret", admin, map[string]string{"grace": "1h"}).
			want(t, http.StatusOK).JSON(t)
		newSecret, _ := rot["client_secret"].(string)
		if newSecret == "" || newSecret == c.ClientSecret || rot["prev_secret_expires_at"] == nil {
			t.Fatalf("rotation %v", rot)
		}
		decodeClientToken(t, s.clientGrant(c.ClientID, c.ClientSecret, nil))
		decodeClientToken(t, s.clientGrant(c.ClientID, newSecret, nil))
		s.Clock.Advance(time.Hour + time.Second)
		r = s.clientGrant(c.ClientID, c.ClientSecret, nil)
		r.wantError(t, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		live := decodeClientToken(t, s.clientGrant(c.ClientID, newSecret, nil))
		admin = s.login("root@example.com", "correct horse battery").AccessToken // the first has expired
		s.get("/v1/verify", live.AccessToken).want(t, http.StatusOK)

		// Disable: the live token is refused at once, and new grants.
		s.admin("POST", "/v1/admin/clients/"+c.ClientID+"/disable", admin, nil).want(t, http.StatusNoContent)
		s.get("/v1/verify", live.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
		if m := s.introspectAs("Basic "+base64.StdEncoding.EncodeToString([]byte("kong:introspection-secret-1234")), live.AccessToken).
			want(t, http.StatusOK).JSON(t); m["active"] != false {
			t.Fatalf("introspection of a disabled client's token: %v", m)
		}
		s.clientGrant(c.ClientID, newSecret, nil).wantError(t, http.StatusUnauthorized, "invalid_client")
		got := s.admin("GET", "/v1/admin/clients/"+c.ClientID, admin, nil).want(t, http.StatusOK).JSON(t)
		if got["disabled"] != true || got["client_secret"] != nil || got["last_used_at"] == nil {
			t.Fatalf("client after disable %v", got)
		}
		s.Clock.Advance(2 * time.Second)
		s.admin("POST", "/v1/admin/clients/"+c.ClientID+"/enable", admin, nil).want(t, http.StatusNoContent)
		again := decodeClientToken(t, s.clientGrant(c.ClientID, newSecret, nil))
		s.get("/v1/verify", again.AccessToken).want(t, http.StatusOK)
		s.get("/v1/verify", live.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")

		list := s.admin("GET", "/v1/admin/clients", admin, nil).want(t, http.StatusOK)
		if strings.Contains(string(list.Body), newSecret) || !strings.Contains(string(list.Body), c.ClientID) {
			t.Fatalf("list %s", list.Body)
		}
		s.admin("DELETE", "/v1/admin/clients/"+c.ClientID, admin, nil).want(t, http.StatusNoContent)
		s.get("/v1/verify", again.AccessToken).wantError(t, http.StatusUnauthorized, "invalid_token")
		s.admin("GET", "/v1/admin/clients/"+c.ClientID, admin, nil).wantError(t, http.StatusNotFound, "not_found")
		s.admin("DELETE", "/v1/admin/clients/"+c.ClientID, admin, nil).wantError(t, http.StatusNotFound, "not_found")

		// Every action is on the audit trail with the admin as actor.
		adminID := claims(t, admin)["sub"].(string)
		waitForAudit(t, s, c.ClientID, adminID, []string{"client_created", "client_secret_rotated", "client_disabled", "client_enabled", "client_deleted"})
	})
}

// waitForAudit waits for the audit writer to store the events of subject
// with the actor (the writer batches off the request path).
func waitForAudit(t *testing.T, s *server, subject, actor string, types []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		events, err := s.App.Store().AuditEvents(t.Context(), store.AuditQuery{Limit: 200, UserID: subject})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			if e.ActorID == actor && slices.Contains(types, e.Type) && !slices.Contains(got, e.Type) {
				got = append(got, e.Type)
			}
		}
		if len(got) == len(types) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit events of %s by %s: %v, want %v", subject, actor, got, types)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestClientGrantErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		admin := s.adminToken("root@example.com")
		c := s.createClient(admin, map[string]any{"name": "svc", "scopes": []string{"a", "b"}})
		off := s.createClient(admin, map[string]any{"name": "off"})
		s.admin("POST", "/v1/admin/clients/"+off.ClientID+"/disable", admin, nil).want(t, http.StatusNoContent)
		form := "application/x-www-form-urlencoded"
		basicH := map[string]string{"Authorization": basicAuth(c.ClientID, c.ClientSecret)}
		tests := []struct {
			name   string
			body   string
			header map[string]string
			status int
			code   string
		}{
			{"no client authentication", "grant_type=client_credentials", nil, 401, "invalid_client"},
			{"wrong secret", "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(c.ClientID, "nope")}, 401, "invalid_client"},
			{"unknown client", "grant_type=client_credentials", map[string]string{"Authorization": basicAuth("svc_aaaaaaaaaaaaaaaaaaaaaaaaaa", c.ClientSecret)}, 401, "invalid_client"},
			{"disabled client", "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(off.ClientID, off.ClientSecret)}, 401, "invalid_client"},
			{"client_id without secret", "grant_type=client_credentials&client_id=" + c.ClientID, nil, 401, "invalid_client"},
			{"malformed Basic", "grant_type=client_credentials", map[string]string{"Authorization": "Basic !!!"}, 401, "invalid_client"},
			{"both methods", "grant_type=client_credentials&client_secret=" + url.QueryEscape(c.ClientSecret), basicH, 400, "invalid_request"},
			{"scope not allowed", "grant_type=client_credentials&scope=a+c", basicH, 400, "invalid_scope"},
			{"audience not allowed", "grant_type=client_credentials&audience=https%3A%2F%2Fother", basicH, 400, "invalid_target"},
			{"two resources", "grant_type=client_credentials&resource=x&resource=y", basicH, 400, "invalid_target"},
			{"audience differs from resource", "grant_type=client_credentials&resource=x&audience=y", basicH, 400, "invalid_request"},
			{"client on the refresh grant", "grant_type=refresh_token&refresh_token=x", basicH, 400, "unauthorized_client"},
			{"unsupported grant", "grant_type=password", basicH, 400, "unsupported_grant_type"},
			{"repeated scope", "grant_type=client_credentials&scope=a&scope=b", basicH, 400, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := s.do("POST", "/v1/token", form, tt.body, tt.header)
				r.wantError(t, tt.status, tt.code)
				if tt.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != `Basic realm="authd"` {
					t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
				}
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
				}
			})
		}
		t.Run("two Authorization headers", func(t *testing.T) {
			h := http.Header{}
			h.Add("Authorization", basicAuth(c.ClientID, c.ClientSecret))
			h.Add("Authorization", basicAuth(c.ClientID, c.ClientSecret))
			s.doHeaders("POST", "/v1/token", form, "grant_type=client_credentials", h).wantError(t, 400, "invalid_request")
		})
		t.Run("json with client_secret_post", func(t *testing.T) {
			tk := decodeClientToken(t, s.postJSON("/v1/token", map[string]string{"grant_type": "client_credentials",
				"client_id": c.ClientID, "client_secret": c.ClientSecret, "scope": "b"}))
			if tk.Scope != "b" {
				t.Fatalf("scope %q", tk.Scope)
			}
		})
		t.Run("id and secret sent without form-urlencoding", func(t *testing.T) {
			raw := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ClientID+":"+c.ClientSecret))
			decodeClientToken(t, s.do("POST", "/v1/token", form, "grant_type=client_credentials", map[string]string{"Authorization": raw}))
		})
		t.Run("admin API refuses non-admins", func(t *testing.T) {
			user := s.signedUp("plain@example.com").AccessToken
			s.admin("GET", "/v1/admin/clients", user, nil).wantError(t, http.StatusForbidden, "insufficient_scope")
			if r := s.do("GET", "/v1/admin/clients", "", "", nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("no token: %d %s", r.Status, r.Body)
			}
			s.admin("POST", "/v1/admin/clients", admin, map[string]any{"name": "x", "scopes": []string{"bad scope"}}).
				wantError(t, http.StatusBadRequest, "invalid_request")
			s.admin("POST", "/v1/admin/clients/"+c.ClientID+"/rotate-secret", admin, map[string]string{"grace": "1000h"}).
				wantError(t, http.StatusBadRequest, "invalid_request")
			s.admin("POST", "/v1/admin/clients/"+c.ClientID+"/rotate-secret", admin, map[string]string{"grace": "soon"}).
				wantError(t, http.StatusBadRequest, "invalid_request")
		})
	})
}

// A client's token is refused by the endpoints about a user's account.
func TestClientTokenRefusedByUserEndpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		admin := s.adminToken("root@example.com")
		c := s.createClient(admin, map[string]any{"name": "svc"})
		tok := decodeClientToken(t, s.clientGrant(c.ClientID, c.ClientSecret, nil)).AccessToken
		bearer := map[string]string{"Authorization": "Bearer " + tok}
		for _, ep := range []struct{ method, path, ct, body string }{
			{"GET", "/v1/me", "", ""},
			{"GET", "/v1/sessions", "", ""},
			{"DELETE", "/v1/sessions/abc", "", ""},
			{"POST", "/v1/logout", "", ""},
			{"POST", "/v1/password/change", "application/json", `{"current_password":"a","new_password":"b"}`},
			{"POST", "/v1/email/verify/resend", "", ""},
		} {
			r := s.do(ep.method, ep.path, ep.ct, ep.body, bearer)
			r.wantError(t, http.StatusForbidden, "insufficient_scope")
		}
		// The gateway and admin role guard see it as a valid token
		// without the admin role.
		s.get("/v1/verify", tok).want(t, http.StatusOK)
		s.admin("GET", "/v1/admin/clients", tok, nil).wantError(t, http.StatusForbidden, "insufficient_scope")
	})
}

// A client holding authd:introspect may call /v1/introspect with its
// token; other tokens may not; the configured credential keeps working.
func TestClientIntrospection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		admin := s.adminToken("root@example.com")
		gw := s.createClient(admin, map[string]any{"name": "gateway", "scopes": []string{"authd:introspect"}})
		other := s.createClient(admin, map[string]any{"name": "other", "scopes": []string{"read"}})
		gwTok := decodeClientToken(t, s.clientGrant(gw.ClientID, gw.ClientSecret, nil)).AccessToken
		otherTok := decodeClientToken(t, s.clientGrant(other.ClientID, other.ClientSecret, nil)).AccessToken
		user := s.signedUp("u@example.com").AccessToken

		m := s.introspectAs("Bearer "+gwTok, user).want(t, http.StatusOK).JSON(t)
		if m["active"] != true || m["sid"] == "" {
			t.Fatalf("introspection of a user token by a client: %v", m)
		}
		if m := s.introspectAs("Bearer "+gwTok, otherTok).want(t, http.StatusOK).JSON(t); m["active"] != true || m["scope"] != "read" {
			t.Fatalf("introspection of a client token: %v", m)
		}
		if m := s.introspectAs("Bearer "+gwTok, "garbage").want(t, http.StatusOK).JSON(t); m["active"] != false {
			t.Fatalf("introspection of garbage: %v", m)
		}
		s.introspectAs("Bearer "+otherTok, user).wantError(t, http.StatusForbidden, "insufficient_scope")
		s.introspectAs("Bearer "+user, user).wantError(t, http.StatusForbidden, "insufficient_scope")
		s.introspectAs("Bearer garbage", user).wantError(t, http.StatusUnauthorized, "invalid_token")
		// No credential configured: Basic is refused.
		s.introspectAs("Basic "+base64.StdEncoding.EncodeToString([]byte("kong:x")), user).wantError(t, http.StatusUnauthorized, "invalid_client")

		d := s.get("/.well-known/openid-configuration", "").want(t, http.StatusOK).JSON(t)
		if d["introspection_endpoint"] != s.Config.Issuer+"/v1/introspect" {
			t.Fatalf("discovery %v", d)
		}
		if !slices.Contains(anyStrings(d["grant_types_supported"]), "client_credentials") ||
			!slices.Contains(anyStrings(d["token_endpoint_auth_methods_supported"]), "client_secret_basic") ||
			!slices.Contains(anyStrings(d["token_endpoint_auth_methods_supported"]), "client_secret_post") {
			t.Fatalf("discovery %v", d)
		}
	})
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// Failed client authentications are limited per client id and per IP;
// while the delay lasts the right secret gets 429 too.
func TestClientAuthenticationRateLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := abuseConfig(t, b)
		cfg.RateLimitTokenIP = "10000/1m"
		cfg.RateLimitClientID = "2/1h"
		cfg.RateLimitClientIP = "5/1h"
		s := start(t, cfg, newClock())
		admin := s.adminToken("root@example.com")
		c := s.createClient(admin, map[string]any{"name": "svc"})
		d := s.createClient(admin, map[string]any{"name": "svc2"})
		for range 3 {
			s.clientGrant(c.ClientID, "wrong", nil).wantError(t, http.StatusUnauthorized, "invalid_client")
		}
		r := s.clientGrant(c.ClientID, c.ClientSecret, nil)
		r.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		// Another client from the same IP is not held up yet (3 IP
		// failures of 5).
		decodeClientToken(t, s.clientGrant(d.ClientID, d.ClientSecret, nil))
		// Unknown ids count per IP.
		for range 3 {
			s.clientGrant("svc_aaaaaaaaaaaaaaaaaaaaaaaaaa", "x", nil).wantError(t, http.StatusUnauthorized, "invalid_client")
		}
		s.clientGrant(d.ClientID, d.ClientSecret, nil).wantError(t, http.StatusTooManyRequests, "rate_limited")
	})
}

// `authd clients create` prints one JSON object on stdout and nothing
// else; list, rotate-secret, disable, enable and delete work on the data
// a running server uses.
func TestCLIClients(t *testing.T) {
	s, c := startWithCLI(t)

	stdout := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(c.bin, args...)
		cmd.Env = c.env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("authd %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	out := stdout("clients", "create", "reports", "--scope", "reports:read", "--scope", "authd:introspect", "--audience", "https://reports.example")
	var created map[string]any
	dec := json.NewDecoder(strings.NewReader(string(out)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&created); err != nil {
		t.Fatalf("create output is not one JSON object: %v: %q", err, out)
	}
	if dec.More() || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("create printed more than one JSON object: %q", out)
	}
	keys := make([]string, 0, len(created))
	for k := range created {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"audiences", "client_id", "client_secret", "scopes"}) {
		t.Fatalf("create printed %v", keys)
	}
	id, secret := created["client_id"].(string), created["client_secret"].(string)
	tk := decodeClientToken(t, s.clientGrant(id, secret, url.Values{"scope": {"reports:read"}}))
	if claims(t, tk.AccessToken)["aud"].([]any)[0] != "https://reports.example" {
		t.Fatalf("claims %v", claims(t, tk.AccessToken))
	}

	list := string(stdout("clients", "list"))
	if !strings.Contains(list, id) || strings.Contains(list, secret) {
		t.Fatalf("list: %s", list)
	}
	var rotated map[string]any
	if err := json.Unmarshal(stdout("clients", "rotate-secret", id, "--grace", "10m"), &rotated); err != nil {
		t.Fatal(err)
	}
	newSecret, _ := rotated["client_secret"].(string)
	if newSecret == "" || newSecret == secret {
		t.Fatalf("rotate-secret: %v", rotated)
	}
	decodeClientToken(t, s.clientGrant(id, secret, nil))
	decodeClientToken(t, s.clientGrant(id, newSecret, nil))

	// On the embedded default the CLI cannot reach the server's
	// in-process denylist (as for users disable): the store refuses new
	// grants at once; tokens already issued die with their TTL.
	c.mustRun("", "clients", "disable", id)
	s.clientGrant(id, newSecret, nil).wantError(t, http.StatusUnauthorized, "invalid_client")
	c.mustRun("", "clients", "enable", id)
	decodeClientToken(t, s.clientGrant(id, newSecret, nil))
	c.mustRun("", "clients", "delete", id)
	s.clientGrant(id, newSecret, nil).wantError(t, http.StatusUnauthorized, "invalid_client")

	for _, args := range [][]string{{"clients"}, {"clients", "create"}, {"clients", "create", "x", "--grace", "1h"},
		{"clients", "disable"}, {"clients", "delete", "a", "b"}} {
		if out, err := c.run("", args...); err == nil {
			t.Errorf("authd %v succeeded: %s", args, out)
		}
	}
	if out, err := c.run("", "clients", "disable", "svc_aaaaaaaaaaaaaaaaaaaaaaaaaa"); err == nil || !strings.Contains(out, "no client") {
		t.Errorf("disable of an unknown client: %v %s", err, out)
	}
}
