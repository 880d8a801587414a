package ginmw_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/authd/authd/pkg/token"
	"github.com/gin-gonic/gin"
)

const (
	issuer   = "https://auth.example.com"
	audience = "https://api.example.com"
)

func init() { gin.SetMode(gin.TestMode) }

func signer(t *testing.T) (*token.Key, *middleware.Verifier) {
	t.Helper()
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(issuer),
		middleware.WithAudience(audience),
		middleware.WithKeySet(token.StaticKeySet{k}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return k, v
}

func mint(t *testing.T, k *token.Key, roles []string, scope string) string {
	t.Helper()
	now := time.Now()
	raw, err := token.Sign(k, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: issuer, Subject: "user-1", Audience: token.ClaimStrings{audience}, ID: "jti-1",
			IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(now.Add(time.Minute)),
		},
		SessionID: "sid-1", Roles: roles, Scope: scope,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type answer struct {
	status    int
	challenge string
	body      map[string]string
	raw       string
}

func do(t *testing.T, h http.Handler, path, bearer string) answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{status: w.Code, challenge: w.Header().Get("WWW-Authenticate"), raw: w.Body.String()}
	if w.Code >= 400 {
		if err := json.Unmarshal(w.Body.Bytes(), &a.body); err != nil {
			t.Fatalf("error body is not JSON: %s", w.Body)
		}
	}
	return a
}

// whoami answers the subject seen by both accessors.
func whoami(c *gin.Context) {
	gc, ok1 := ginmw.ClaimsFrom(c)
	hc, ok2 := middleware.ClaimsFrom(c.Request.Context())
	if !ok1 || !ok2 || gc != hc {
		c.String(http.StatusInternalServerError, "claims missing")
		return
	}
	c.String(http.StatusOK, gc.Subject+" "+gc.SessionID)
}

func TestAuthenticate(t *testing.T) {
	k, v := signer(t)
	var lastErrors []string
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		lastErrors = c.Errors.Errors()
	})
	r.GET("/me", ginmw.Authenticate(v), whoami)

	if a := do(t, r, "/me", mint(t, k, nil, "")); a.status != 200 || a.raw != "user-1 sid-1" {
		t.Fatalf("valid token: %d %s", a.status, a.raw)
	}
	a := do(t, r, "/me", "")
	if a.status != 401 || a.challenge != "Bearer" || a.body["error"] != "invalid_request" {
		t.Fatalf("no token: %+v", a)
	}
	a = do(t, r, "/me", "x.y.z")
	if a.status != 401 || !strings.HasPrefix(a.challenge, `Bearer error="invalid_token"`) || a.body["error"] != "invalid_token" {
		t.Fatalf("bad token: %+v", a)
	}
	if len(lastErrors) != 1 || !strings.Contains(lastErrors[0], "malformed") || strings.Contains(a.raw, "malformed") {
		t.Fatalf("the cause must reach c.Errors, not the client: %q, body %s", lastErrors, a.raw)
	}
}

func TestClaimsFromWithoutAuthenticate(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if _, ok := ginmw.ClaimsFrom(c); ok {
		t.Fatal("claims without Authenticate")
	}
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	if _, ok := ginmw.ClaimsFrom(c); ok {
		t.Fatal("claims without Authenticate")
	}
}

func TestGuards(t *testing.T) {
	k, v := signer(t)
	r := gin.New()
	authn := ginmw.Authenticate(v)
	r.GET("/roles", authn, ginmw.RequireRoles("user", "ops"), whoami)
	r.GET("/any-role", authn, ginmw.RequireAnyRole("admin", "ops"), whoami)
	r.GET("/scopes", authn, ginmw.RequireScopes("read", "write"), whoami)
	r.GET("/any-scope", authn, ginmw.RequireAnyScope("admin", "write"), whoami)
	r.GET("/both", authn, ginmw.Require(middleware.AllRoles("user"), middleware.AllScopes("read")), whoami)
	r.GET("/unauthenticated", ginmw.RequireRoles("user"), whoami)

	full := mint(t, k, []string{"user", "ops"}, "read write")
	weak := mint(t, k, []string{"user"}, "read")
	tests := []struct {
		path   string
		token  string
		status int
		scope  string
	}{
		{"/roles", full, 200, ""},
		{"/roles", weak, 403, ""},
		{"/roles", "", 401, ""},
		{"/any-role", full, 200, ""},
		{"/any-role", weak, 403, ""},
		{"/scopes", full, 200, ""},
		{"/scopes", weak, 403, "read write"},
		{"/any-scope", full, 200, ""},
		{"/any-scope", weak, 403, "admin write"},
		{"/both", weak, 200, ""},
		{"/unauthenticated", full, 401, ""},
	}
	for _, tt := range tests {
		name := tt.path + "/" + map[string]string{full: "full", weak: "weak", "": "none"}[tt.token]
		t.Run(name, func(t *testing.T) {
			a := do(t, r, tt.path, tt.token)
			if a.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.status, a.raw)
			}
			switch tt.status {
			case 200:
				if a.raw != "user-1 sid-1" {
					t.Fatalf("body = %q", a.raw)
				}
			case 403:
				if a.body["error"] != "insufficient_scope" || !strings.HasPrefix(a.challenge, `Bearer error="insufficient_scope"`) {
					t.Fatalf("403 answer: %+v", a)
				}
				if tt.scope != "" && !strings.HasSuffix(a.challenge, `scope="`+tt.scope+`"`) {
					t.Fatalf("WWW-Authenticate = %q, want scope %q", a.challenge, tt.scope)
				}
			case 401:
				if a.challenge == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			}
		})
	}
}
