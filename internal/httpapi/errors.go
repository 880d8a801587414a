package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/store"
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
	auth.ErrConflict:            http.StatusConflict,
	auth.ErrForbidden:           http.StatusForbidden,
	auth.ErrInvalidClient:       http.StatusUnauthorized,
	auth.ErrInvalidScope:        http.StatusBadRequest,
	auth.ErrInvalidTarget:       http.StatusBadRequest,
	auth.ErrUnauthorizedClient:  http.StatusBadRequest,
	// A 4xx, so that a client unaware of a second factor never takes
	// the answer for success.
	auth.ErrMFARequired:           http.StatusForbidden,
	auth.ErrMFAEnrollmentRequired: http.StatusForbidden,
	auth.ErrInvalidCode:           http.StatusBadRequest,
}

// dependencyRetryAfter is the Retry-After of a 503 for a store or denylist
// outage: enough not to hammer a database that is restarting, little enough
// that clients are back soon after it is.
const dependencyRetryAfter = 2 * time.Second

// writeError answers err. A service *Error shows its code and description.
// A store or denylist outage anywhere in the chain is 503
// temporarily_unavailable with Retry-After (counted through
// OnStoreUnavailable for the store), whatever kind the service gave it,
// unless that kind is already ErrUnavailable with a description of its
// own. Anything else is logged and answered as a generic 500.
func (a *API) writeError(c *gin.Context, err error) {
	_ = c.Error(err) // for the access log
	storeDown := errors.Is(err, store.ErrUnavailable)
	if storeDown && a.cfg.OnStoreUnavailable != nil {
		a.cfg.OnStoreUnavailable()
	}
	var e *auth.Error
	isServiceErr := errors.As(err, &e)
	if (storeDown || errors.Is(err, denylist.ErrUnavailable)) && (!isServiceErr || e.Kind != auth.ErrUnavailable) {
		a.log.LogAttrs(c.Request.Context(), slog.LevelWarn, "dependency unavailable",
			slog.String("route", c.FullPath()), slog.Any("error", err))
		c.Header("Retry-After", retryAfter(dependencyRetryAfter))
		writeCode(c, http.StatusServiceUnavailable, auth.ErrUnavailable.Error(), "the service is temporarily unavailable; retry later")
		return
	}
	if !isServiceErr {
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
		switch e.Kind {
		case auth.ErrInvalidToken:
			c.Header("WWW-Authenticate", middleware.InvalidTokenChallenge(e.Description))
		case auth.ErrInvalidClient:
			// RFC 6749 §5.2: the scheme the client may authenticate with.
			c.Header("WWW-Authenticate", `Basic realm="authd"`)
		}
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		c.Header("Retry-After", retryAfter(e.RetryAfter))
	}
	if e.MFA != nil {
		writeMFAChallenge(c, status, e)
		return
	}
	writeCode(c, status, e.Kind.Error(), e.Description)
}

// errorBody is every JSON error body authd's API writes: the
// {"error","error_description"} pair, plus the challenge members of
// mfa_required and mfa_enrollment_required. Its fields are in the order
// the keys were written before, so the bytes stay the same.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	// ExpiresIn is the mfa_token's lifetime in seconds.
	ExpiresIn *int64 `json:"expires_in,omitempty"`
	// MFAMethods are the second steps the mfa_token accepts (mfa_required
	// only).
	MFAMethods []string `json:"mfa_methods,omitempty"`
	MFAToken   *string  `json:"mfa_token,omitempty"`
}

// writeMFAChallenge writes the body of mfa_required and
// mfa_enrollment_required: the error members plus the mfa_token, the
// methods it accepts (mfa_required only) and its lifetime in seconds.
func writeMFAChallenge(c *gin.Context, status int, e *auth.Error) {
	c.Header("Pragma", "no-cache")
	expiresIn := int64(e.MFA.ExpiresIn / time.Second)
	writeBody(c, status, errorBody{Error: e.Kind.Error(), Description: e.Description,
		ExpiresIn: &expiresIn, MFAMethods: e.MFA.Methods, MFAToken: &e.MFA.Token})
}

// writeCode writes the JSON error body.
func writeCode(c *gin.Context, status int, code, description string) {
	writeBody(c, status, errorBody{Error: code, Description: description})
}

// writeBody writes body, uncached, and ends the request.
func writeBody(c *gin.Context, status int, body errorBody) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, body)
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
