package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/gin-gonic/gin"
)

// RequestObserver receives one call per request (metrics). route is a
// registered route pattern or "unmatched", method a standard method or
// "other": both come from fixed sets, never from the raw request.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration)
}

const (
	requestIDHeader = "X-Request-Id"
	requestIDKey    = "authd.request_id"
	maxRequestID    = 64
)

// requestID honours an incoming X-Request-Id when it is short and plain
// (so it cannot inject into logs), generates one otherwise, and echoes it
// on the response for correlation with the access log.
func requestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !validRequestID(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Header(requestIDHeader, id)
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}
