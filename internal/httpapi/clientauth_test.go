package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// basic is an Authorization header of HTTP Basic with user and pass taken
// as they are (no form-urlencoding).
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuthenticateClient(t *testing.T) {
	const id, secret = "interop-gateway", "s3cr+t/with=all_the~chars 1"
	s := newClientSecret(id, secret)
	tests := []struct {
		name    string
		headers []string
		status  int // 0: authenticated
		code    string
	}{
		{"raw credentials", []string{basic(id, secret)}, 0, ""},
		{"form-urlencoded (RFC 6749 §2.3.1)", []string{basic("interop%2Dgateway", "s3cr%2Bt%2Fwith%3Dall_the~chars+1")}, 0, ""},
		{"form-urlencoded, lower-case escapes", []string{basic("interop%2dgateway", "s3cr%2bt%2fwith%3dall_the%7echars%201")}, 0, ""},
		{"scheme case-insensitive", []string{"bAsIc " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}, 0, ""},
		{"wrong secret", []string{basic(id, secret+"x")}, 401, "invalid_client"},
		{"wrong id", []string{basic("interop_gateway", secret)}, 401, "invalid_client"},
		{"secret decoded wrongly: + is a space", []string{basic(id, "s3cr t/with=all_the~chars 1")}, 401, "invalid_client"},
		{"malformed percent-encoding", []string{basic("interop%2", secret)}, 401, "invalid_client"},
		{"malformed percent-encoding in the secret", []string{basic(id, "%zz")}, 401, "invalid_client"},
		{"no colon", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(id))}, 401, "invalid_client"},
		{"bad base64", []string{"Basic !!!"}, 401, "invalid_client"},
		{"bearer", []string{"Bearer abc"}, 401, "invalid_client"},
		{"none", nil, 401, "invalid_client"},
		{"two headers", []string{basic(id, secret), basic(id, secret)}, 400, "invalid_request"},
	}
	gin.SetMode(gin.ReleaseMode)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/v1/introspect", nil)
			for _, h := range tt.headers {
				c.Request.Header.Add("Authorization", h)
			}
			ok := authenticateClient(c, s, "test")
			if tt.status == 0 {
				if !ok {
					t.Fatalf("refused: %d %s", w.Code, w.Body)
				}
				return
			}
			if ok || w.Code != tt.status {
				t.Fatalf("authenticated = %v, status %d, want refusal with %d", ok, w.Code, tt.status)
			}
			if want := `{"error":"` + tt.code + `"`; len(w.Body.String()) < len(want) || w.Body.String()[:len(want)] != want {
				t.Fatalf("body %s, want code %s", w.Body, tt.code)
			}
			if got := w.Header().Get("WWW-Authenticate"); (tt.status == 401) != (got == `Basic realm="test"`) {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
	}
}

func TestClientSecretDisabled(t *testing.T) {
	for _, s := range []clientSecret{{}, newClientSecret("", "x"), newClientSecret("x", "")} {
		if s.matches(presentedClient{}) || s.matches(presentedClient{id: "x", rawID: "x"}) {
			t.Fatal("a disabled client secret accepted credentials")
		}
	}
}
