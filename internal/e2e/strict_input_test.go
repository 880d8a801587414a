package e2e_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/config"
)

// TestStrictJSONInput: field names match exactly, a key given twice or a
// missing required field is 400 invalid_request, on every JSON endpoint.
func TestStrictJSONInput(t *testing.T) {
	s := startEmbedded(t, newClock(), nil)
	tk := s.signedUp("strict@example.com")
	const pw = "correct horse battery"
	bearer := map[string]string{"Authorization": "Bearer " + tk.AccessToken}
	tests := []struct {
		name, path, body string
		header           map[string]string
		want             string // the error_description
	}{
		{"login, names in another case", "/v1/login", `{"EMAIL":"strict@example.com","PassWord":"` + pw + `"}`, nil, `unknown field "EMAIL"`},
		{"login, a name folding to password", "/v1/login", `{"email":"strict@example.com","pa\u017f\u017fword":"` + pw + `"}`, nil, "the request body has an unknown field"},
		{"login, email twice", "/v1/login", `{"email":"nobody@example.com","email":"strict@example.com","password":"` + pw + `"}`, nil, `field "email" is repeated`},
		{"login, password twice", "/v1/login", `{"email":"strict@example.com","password":"wrong horse battery","password":"` + pw + `"}`, nil, `field "password" is repeated`},
		{"login, no password", "/v1/login", `{"email":"strict@example.com"}`, nil, `field "password" is required`},
		{"register, no password", "/v1/register", `{"email":"new@example.com"}`, nil, `field "password" is required`},
		{"register, null password", "/v1/register", `{"email":"new@example.com","password":null}`, nil, `field "password" is required`},
		{"register, Email", "/v1/register", `{"Email":"new@example.com","password":"` + pw + `"}`, nil, `unknown field "Email"`},
		{"reset, no password", "/v1/password/reset", `{"token":"abc"}`, nil, `field "password" is required`},
		{"forgot, no email", "/v1/password/forgot", `{}`, nil, `field "email" is required`},
		{"verify email, TOKEN", "/v1/email/verify", `{"TOKEN":"abc"}`, nil, `unknown field "TOKEN"`},
		{"change, no new password", "/v1/password/change", `{"current_password":"` + pw + `"}`, bearer, `field "new_password" is required`},
		{"token, GRANT_TYPE", "/v1/token", `{"GRANT_TYPE":"refresh_token","refresh_token":"` + tk.RefreshToken + `"}`, nil, `unknown field "GRANT_TYPE"`},
		{"logout, scope twice", "/v1/logout", `{"scope":"local","scope":"global"}`, bearer, `field "scope" is repeated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("POST", tt.path, "application/json", tt.body, tt.header)
			r.wantError(t, http.StatusBadRequest, "invalid_request")
			if got := r.str(t, "error_description"); got != tt.want {
				t.Fatalf("error_description = %q, want %q", got, tt.want)
			}
		})
	}
	// Nothing above logged in, logged out or changed the password.
	if r := s.get("/v1/me", tk.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("/v1/me after the refused requests: %d %s", r.Status, r.Body)
	}
	s.login("strict@example.com", pw)
	// A repeated form parameter is refused as before.
	form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(tk.RefreshToken) + "&refresh_token=x"
	s.do("POST", "/v1/token", "application/x-www-form-urlencoded", form, nil).wantError(t, http.StatusBadRequest, "invalid_request")
}

// TestRepeatedAuthorizationHeader: a request with two Authorization
// headers is malformed, 400 invalid_request, on every Bearer endpoint and
// on /v1/introspect, even when both carry valid credentials.
func TestRepeatedAuthorizationHeader(t *testing.T) {
	s := startEmbedded(t, newClock(), withGateway)
	tk := s.signedUp("twice@example.com")
	other := s.login("twice@example.com", "correct horse battery")
	for _, tt := range []struct{ method, path string }{
		{"GET", "/v1/me"}, {"GET", "/v1/verify"}, {"POST", "/v1/verify/api/items"}, {"GET", "/v1/sessions"}, {"POST", "/v1/logout"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := s.doHeaders(tt.method, tt.path, "", "", http.Header{"Authorization": {"Bearer " + tk.AccessToken, "Bearer " + other.AccessToken}})
			r.wantError(t, http.StatusBadRequest, "invalid_request")
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer error="invalid_request"`) {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("kong:"+s.Config.IntrospectionClientSecret))
	r := s.doHeaders("POST", "/v1/introspect", "application/x-www-form-urlencoded", "token="+tk.AccessToken,
		http.Header{"Authorization": {basic, basic}})
	r.wantError(t, http.StatusBadRequest, "invalid_request")
	// The logout above was refused: both sessions still work.
	for _, a := range []string{tk.AccessToken, other.AccessToken} {
		if r := s.get("/v1/me", a); r.Status != http.StatusOK {
			t.Fatalf("/v1/me: %d %s", r.Status, r.Body)
		}
	}
}

// TestIntrospectionFormEncodedCredentials: RFC 6749 §2.3.1 clients
// (openid-client, for one) form-urlencode the client id and secret before
// the Basic encoding; authd decodes them, and still takes them raw.
func TestIntrospectionFormEncodedCredentials(t *testing.T) {
	s := startEmbedded(t, newClock(), func(cfg *config.Config) {
		cfg.IntrospectionClientID = "interop-gateway"
		cfg.IntrospectionClientSecret = "Zm9v+YmFy/c2VjcmV0=_-x"
	})
	tk := s.signedUp("encoded@example.com")
	introspect := func(user, pass string) response {
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
		return s.doHeaders("POST", "/v1/introspect", "application/x-www-form-urlencoded", "token="+tk.AccessToken, h)
	}
	for name, creds := range map[string][2]string{
		// What openid-client 6 sends: every character but [A-Za-z0-9] escaped.
		"fully escaped":   {"interop%2Dgateway", "Zm9v%2BYmFy%2Fc2VjcmV0%3D%5F%2Dx"},
		"url.QueryEscape": {url.QueryEscape(s.Config.IntrospectionClientID), url.QueryEscape(s.Config.IntrospectionClientSecret)},
		"raw":             {s.Config.IntrospectionClientID, s.Config.IntrospectionClientSecret},
	} {
		t.Run(name, func(t *testing.T) {
			r := introspect(creds[0], creds[1])
			if r.Status != http.StatusOK || r.JSON(t)["active"] != true {
				t.Fatalf("introspect: %d %s", r.Status, r.Body)
			}
		})
	}
	for name, creds := range map[string][2]string{
		"malformed escape":    {"interop%2", s.Config.IntrospectionClientSecret},
		"malformed in secret": {s.Config.IntrospectionClientID, "Zm9v%zz"},
		"+ decoded as space":  {s.Config.IntrospectionClientID, "Zm9v YmFy/c2VjcmV0=_-x"},
		"wrong secret":        {"interop%2Dgateway", "Zm9v%2BYmFy"},
	} {
		t.Run("refused "+name, func(t *testing.T) {
			r := introspect(creds[0], creds[1])
			r.wantError(t, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}
