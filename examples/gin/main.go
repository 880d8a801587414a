// Command gin is examples/nethttp on gin, with pkg/middleware/ginmw:
// GET /hello for any signed-in user, GET /admin for users with the
// "admin" role.
//
// This file is the gin wiring; the configuration from authd's environment
// (AUTHD_ISSUER, AUTHD_REDIS_URL, ...) and the server's lifecycle are in
// examples/internal/service, shared with examples/nethttp. ADDR defaults
// to ":8082".
package main

import (
	"net/http"

	"github.com/authd/authd/examples/internal/service"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/middleware/ginmw"
	"github.com/gin-gonic/gin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	service.Main(":8082", routes)
}

// routes protects the /hello and /admin routes with v.
func routes(v *middleware.Verifier) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	authed := r.Group("/", ginmw.Authenticate(v))
	authed.GET("/hello", func(c *gin.Context) {
		claims, _ := ginmw.ClaimsFrom(c)
		c.String(http.StatusOK, service.Hello(claims))
	})
	authed.GET("/admin", ginmw.RequireRoles("admin"), func(c *gin.Context) {
		claims, _ := ginmw.ClaimsFrom(c)
		c.String(http.StatusOK, service.Admin(claims))
	})
	return r
}
