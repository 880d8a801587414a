package middleware_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

// withClaims puts c in the request context, as Handler would.
func withClaims(c *middleware.Claims, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c != nil {
			r = r.WithContext(middleware.WithClaims(r.Context(), c))
		}
		next.ServeHTTP(w, r)
	})
}

func TestGuards(t *testing.T) {
	user := &middleware.Claims{Subject: "user-1", Roles: []string{"user", "ops"}, Scope: "read write"}
	bare := &middleware.Claims{Subject: "user-1"}
	type guard = func(http.Handler) http.Handler
	tests := []struct {
		name   string
		claims *middleware.Claims
		guard  guard
		status int
		scope  string // the challenge's scope attribute; "" for none
	}{
		{"no claims: Handler did not run", nil, middleware.RequireRoles("user"), 401, ""},
		{"all roles met", user, middleware.RequireRoles("user", "ops"), 200, ""},
		{"all roles, one missing", user, middleware.RequireRoles("user", "admin"), 403, ""},
		{"any role met", user, middleware.RequireAnyRole("admin", "ops"), 200, ""},
		{"any role, none held", user, middleware.RequireAnyRole("admin", "root"), 403, ""},
		{"roles of a token without roles", bare, middleware.RequireAnyRole("user"), 403, ""},
		{"no role listed fails closed", user, middleware.RequireRoles(), 403, ""},
		{"all scopes met", user, middleware.RequireScopes("write", "read"), 200, ""},
		{"all scopes, one missing", user, middleware.RequireScopes("read", "admin"), 403, "read admin"},
		{"any scope met", user, middleware.RequireAnyScope("admin", "write"), 200, ""},
		{"any scope, none held", user, middleware.RequireAnyScope("admin"), 403, "admin"},
		{"scope prefix is not the scope", user, middleware.RequireScopes("rea"), 403, "rea"},
		{"unquotable scope left out of the header", user, middleware.RequireScopes(`a"b`, "admin"), 403, "admin"},
		{"no scope listed fails closed", user, middleware.RequireAnyScope(), 403, ""},
		{"Require with nothing fails closed", user, middleware.Require(), 403, ""},
		{"zero Requirement fails closed", user, middleware.Require(middleware.Requirement{}), 403, ""},
		{"Require of several met", user, middleware.Require(middleware.AllRoles("user"), middleware.AnyScope("read", "x")), 200, ""},
		{"Require of several, one unmet", user, middleware.Require(middleware.AllRoles("user"), middleware.AllScopes("admin")), 403, "admin"},
		{"composed, both met", user, func(h http.Handler) http.Handler {
			return middleware.RequireRoles("user")(middleware.RequireScopes("read")(h))
		}, 200, ""},
		{"composed, inner unmet", user, func(h http.Handler) http.Handler {
			return middleware.RequireRoles("user")(middleware.RequireScopes("admin")(h))
		}, 403, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, withClaims(tt.claims, tt.guard(whoami)), "")
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.status, tt.status, resp.raw)
			}
			challenge := resp.header.Get("WWW-Authenticate")
			switch tt.status {
			case 200:
				if resp.raw != "user-1" {
					t.Fatalf("body = %q", resp.raw)
				}
			case 401:
				if challenge != "Bearer" {
					t.Fatalf("WWW-Authenticate = %q", challenge)
				}
			case 403:
				if resp.body["error"] != "insufficient_scope" || !strings.HasPrefix(challenge, `Bearer error="insufficient_scope"`) {
					t.Fatalf("403 answer: %q, %v", challenge, resp.body)
				}
				_, scope, found := strings.Cut(challenge, `scope="`)
				if tt.scope == "" && found {
					t.Fatalf("WWW-Authenticate %q has a scope attribute", challenge)
				}
				if tt.scope != "" && scope != tt.scope+`"` {
					t.Fatalf("WWW-Authenticate = %q, want scope=%q", challenge, tt.scope)
				}
				if strings.Contains(resp.raw, "ops") || strings.Contains(challenge, "admin") && tt.scope == "" {
					t.Fatalf("role names disclosed: %q %s", challenge, resp.raw)
				}
			}
		})
	}
}

func TestRequirementCheck(t *testing.T) {
	c := &middleware.Claims{Roles: []string{"admin"}, Scope: "read"}
	if err := middleware.AllRoles("admin").Check(c); err != nil {
		t.Fatal(err)
	}
	err := middleware.AnyScope("write", "delete").Check(c)
	var ie *middleware.InsufficientError
	if !errors.Is(err, middleware.ErrInsufficientScope) || !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an *InsufficientError", err)
	}
	if got := ie.Requirement.String(); got != "one of scopes [write delete]" {
		t.Fatalf("String() = %q", got)
	}
	if err := middleware.AllRoles("admin").Check(nil); !errors.Is(err, middleware.ErrNoToken) {
		t.Fatalf("nil claims: err = %v, want ErrNoToken", err)
	}
	if err := middleware.Authorize(c, middleware.AllRoles("admin"), middleware.AllScopes("read")); err != nil {
		t.Fatal(err)
	}
}

// TestGuardsBehindHandler runs real tokens through Handler and a guard.
func TestGuardsBehindHandler(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	v := staticVerifier(t, token.StaticKeySet{k})
	admin := v.Handler(middleware.RequireRoles("admin")(whoami))
	for _, tt := range []struct {
		name   string
		roles  []string
		bearer bool
		status int
	}{
		{"admin", []string{"user", "admin"}, true, 200},
		{"user", []string{"user"}, true, 403},
		{"no token", nil, false, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bearer := ""
			if tt.bearer {
				bearer = "Bearer " + mint(t, k, time.Now(), func(c *token.Payload) { c.Roles = tt.roles })
			}
			if got := serve(t, admin, bearer).status; got != tt.status {
				t.Fatalf("status = %d, want %d", got, tt.status)
			}
		})
	}
}
