package httpapi

import "github.com/gin-gonic/gin"

// hstsValue asks browsers to use HTTPS only, for two years, subdomains
// included (the max-age the HSTS preload list asks for).
const hstsValue = "max-age=63072000; includeSubDomains"

// hsts sends Strict-Transport-Security. It is installed only when authd
// serves TLS itself: over plain HTTP the header is ignored by browsers
// (RFC 6797 §7.2), and behind a TLS-terminating proxy the proxy owns it.
func hsts(c *gin.Context) {
	c.Writer.Header().Set("Strict-Transport-Security", hstsValue)
	c.Next()
}
