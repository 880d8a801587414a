// Command nethttp is a small net/http microservice that accepts authd
// access tokens: GET /hello for any signed-in user, GET /admin for users
// with the "admin" role (403 insufficient_scope otherwise).
//
// This file is the net/http wiring; the configuration from authd's
// environment (AUTHD_ISSUER, AUTHD_REDIS_URL, ...) and the server's
// lifecycle are in examples/internal/service, shared with examples/gin.
// ADDR defaults to ":8081".
package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/authd/authd/examples/internal/service"
	"github.com/authd/authd/pkg/middleware"
)

func main() { service.Main(":8081", routes) }

// routes protects every route but /healthz with v.
func routes(v *middleware.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /hello", v.Handler(http.HandlerFunc(hello)))
	mux.Handle("GET /admin", v.Handler(middleware.RequireRoles("admin")(http.HandlerFunc(admin))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	c, _ := middleware.ClaimsFrom(r.Context())
	io.WriteString(w, service.Hello(c))
}

func admin(w http.ResponseWriter, r *http.Request) {
	c, _ := middleware.ClaimsFrom(r.Context())
	io.WriteString(w, service.Admin(c))
}
