package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/gin-gonic/gin"
)

// statusOf maps a service error kind to its HTTP status.
var statusOf = map[error]int{
	auth.ErrInvalidRequest:     http.StatusBadRequest,
	auth.ErrWeakPassword:       http.StatusUnprocessableEntity,
	auth.ErrEmailTaken:         http.StatusConflict,
	auth.ErrInvalidCredentials: http.StatusUnauthorized,
	auth.ErrInvalidGrant:       http.StatusBadRequest,
	auth.ErrUnsupportedGrant:   http.StatusBadRequest,
	auth.ErrInvalidToken:       http.StatusUnauthorized,
	auth.ErrUserDisabled:       http.StatusForbidden,
	// A mailed token is a request field: 400, and no WWW-Authenticate,
	// though its code is invalid_token like a bad bearer token's.
	auth.ErrInvalidOneTimeToken: http.StatusBadRequest,
	auth.ErrEmailNotVerified:    http.StatusForbidden,
	auth.ErrNotFound:            http.StatusNotFound,
	auth.ErrUnavailable:         http.StatusServiceUnavailable,
	auth.ErrRateLimited:         http.StatusTooManyRequests,
}

// writeError answers err. A service *Error shows its code and description;
// anything else is logged and answered as a generic 500.
func (a *API) writeError(c *gin.Context, err error) {
	_ = c.Error(err) // for the access log
	var e *auth.Error
	if !errors.As(err, &e) {
		a.log.LogAttrs(c.Request.Context(), slog.LevelError, "internal error",
			slog.String("route", c.FullPath()), slog.Any("error", err))
		if a.cfg.OnInternalError != nil {
			a.cfg.OnInternalError()
		}
		writeCode(c, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusBadRequest
	}
	switch status {
	case http.StatusUnauthorized:
		if e.Kind == auth.ErrInvalidToken {
			c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		c.Header("Retry-After", retryAfter(e.RetryAfter))
	}
	writeCode(c, status, e.Kind.Error(), e.Description)
}

// writeCode writes the JSON error body.
func writeCode(c *gin.Context, status int, code, description string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": description})
}

// badRequest is a shortcut for a malformed request.
func badRequest(description string) error {
	return &auth.Error{Kind: auth.ErrInvalidRequest, Description: description}
}

// retryAfter formats d as a Retry-After value: whole seconds, rounded up,
// at least 1 (0 would invite an immediate retry).
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}
