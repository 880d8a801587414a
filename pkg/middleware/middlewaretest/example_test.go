package middlewaretest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/middleware/middlewaretest"
)

// A service's test starts a fake authd, points its Verifier at it, and
// calls its handler with tokens the test chose, one of them revoked.
func Example() {
	authd, err := middlewaretest.NewIssuer()
	if err != nil {
		panic(err)
	}
	defer authd.Close()

	v, err := middleware.NewVerifier(
		middleware.WithIssuer(authd.URL),
		middleware.WithAudience(authd.Audience),
		middleware.WithDiscovery(),
		middleware.WithRevocation(authd.Checker(), middleware.FailClosed),
	)
	if err != nil {
		panic(err)
	}
	defer v.Close()
	admins := v.Handler(middleware.RequireRoles("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := middleware.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %s", c.Subject)
	})))

	admin, _ := authd.Mint(middlewaretest.Token{Subject: "alice", Roles: []string{"admin"}})
	user, _ := authd.Mint(middlewaretest.Token{Subject: "bob"})
	revoked, _ := authd.Mint(middlewaretest.Token{Subject: "carol", ID: "jti-carol", Roles: []string{"admin"}})
	authd.Revoke("jti-carol")

	for _, raw := range []string{admin, user, revoked, ""} {
		req := httptest.NewRequest(http.MethodGet, "/admin", nil)
		if raw != "" {
			req.Header.Set("Authorization", "Bearer "+raw)
		}
		rec := httptest.NewRecorder()
		admins.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 hello alice
	// 403 {"error":"insufficient_scope","error_description":"the token lacks a required role"}
	// 401 {"error":"invalid_token","error_description":"the token has been revoked"}
	// 401 {"error":"invalid_request","error_description":"a bearer token is required"}
}
