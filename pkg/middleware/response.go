package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// ErrorResponse is the status, headers and body answering a failed
// verification or guard, shared by every adapter.
type ErrorResponse struct {
	// Status is the HTTP status: 400, 401, 403 or 503.
	Status int
	// WWWAuthenticate is the WWW-Authenticate header, empty for 503.
	WWWAuthenticate string
	// RetryAfter is the Retry-After header (seconds), set for 503.
	RetryAfter string
	// Code is the body's "error".
	Code string
	// Description is the body's "error_description": fixed text that never
	// carries the cause.
	Description string
}

// Descriptions of the error responses: fixed, client-safe text.
const (
	descNoToken      = "a bearer token is required"
	descRepeated     = "the request has more than one Authorization header"
	descInvalid      = "the token is invalid or expired"
	descRevoked      = "the token has been revoked"
	descUnavailable  = "the token could not be checked; retry"
	descMissingScope = "the token lacks a required scope"
	descMissingRole  = "the token lacks a required role"
	descStepUp       = "a stronger or more recent authentication is required"
)

// ResponseFor maps an error of Verify, Authenticate or a guard to its
// RFC 6750 response: no token → 401 with a bare Bearer challenge; two
// Authorization headers → 400 invalid_request; invalid,
// expired or revoked → 401 invalid_token; a guard's *InsufficientError →
// 403 insufficient_scope (with the scope attribute for scopes), or for an
// unmet AuthMethods or FreshAuth 401 insufficient_user_authentication
// (RFC 9470, with acr_values or max_age);
// unavailable → 503 temporarily_unavailable with Retry-After. Any other
// error is treated as an invalid token. Descriptions never include the
// cause.
func ResponseFor(err error) ErrorResponse {
	var insufficient *InsufficientError
	switch {
	case errors.Is(err, ErrNoToken):
		return ErrorResponse{Status: http.StatusUnauthorized, WWWAuthenticate: `Bearer`,
			Code: "invalid_request", Description: descNoToken}
	case errors.Is(err, ErrRepeatedHeader):
		return ErrorResponse{Status: http.StatusBadRequest,
			WWWAuthenticate: `Bearer error="invalid_request", error_description="` + descRepeated + `"`,
			Code:            "invalid_request", Description: descRepeated}
	case errors.Is(err, ErrUnavailable):
		return ErrorResponse{Status: http.StatusServiceUnavailable, RetryAfter: "1",
			Code: "temporarily_unavailable", Description: descUnavailable}
	case errors.As(err, &insufficient) && insufficient.stepUp():
		desc := descStepUp
		return ErrorResponse{Status: http.StatusUnauthorized,
			WWWAuthenticate: `Bearer error="insufficient_user_authentication", error_description="` + desc + `"` +
				insufficient.Requirement.challengeParams(),
			Code: "insufficient_user_authentication", Description: desc}
	case errors.As(err, &insufficient):
		return insufficientResponse(insufficient.Requirement)
	case errors.Is(err, ErrRevoked):
		return invalidTokenResponse(descRevoked)
	default:
		return invalidTokenResponse(descInvalid)
	}
}

func invalidTokenResponse(desc string) ErrorResponse {
	return ErrorResponse{Status: http.StatusUnauthorized, WWWAuthenticate: InvalidTokenChallenge(desc),
		Code: "invalid_token", Description: desc}
}

// InvalidTokenChallenge is the WWW-Authenticate value of a 401
// invalid_token (RFC 6750 §3): the one spelling of that challenge, so
// authd's own endpoints and every service using this package answer
// alike. desc becomes error_description when it is a valid quoted-string
// body (%x20-21 / %x23-5B / %x5D-7E) and is left out otherwise.
func InvalidTokenChallenge(desc string) string {
	h := `Bearer error="invalid_token"`
	if validDescription(desc) {
		h += `, error_description="` + desc + `"`
	}
	return h
}

// validDescription reports whether s may stand in error_description
// without quoting: %x20-21 / %x23-5B / %x5D-7E.
func validDescription(s string) bool { return quotable(s, 0x20) }

// insufficientResponse is the 403 of an unmet requirement. Roles are not
// named to the client; scopes are (RFC 6750 §3), those that are valid
// scope tokens, which need no quoting.
func insufficientResponse(r Requirement) ErrorResponse {
	desc := descMissingRole
	if r.kind == kindScopes {
		desc = descMissingScope
	}
	h := `Bearer error="insufficient_scope", error_description="` + desc + `"`
	if r.kind == kindScopes {
		var valid []string
		for _, s := range r.values {
			if validScopeToken(s) {
				valid = append(valid, s)
			}
		}
		if len(valid) > 0 {
			h += `, scope="` + strings.Join(valid, " ") + `"`
		}
	}
	return ErrorResponse{Status: http.StatusForbidden, WWWAuthenticate: h, Code: "insufficient_scope", Description: desc}
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool { return quotable(s, 0x21) }

// quotable reports whether s is non-empty and every byte is from low to
// %x7E but for '"' and '\\': the characters both an RFC 6750 challenge's
// quoted values and a scope token allow.
func quotable(s string, low byte) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < low || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// WriteError writes the response ResponseFor(err) gives, with a JSON body
// {"error","error_description"} and Cache-Control: no-store.
func WriteError(w http.ResponseWriter, err error) {
	resp := ResponseFor(err)
	h := w.Header()
	if resp.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", resp.WWWAuthenticate)
	}
	if resp.RetryAfter != "" {
		h.Set("Retry-After", resp.RetryAfter)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(resp.Status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: resp.Code, Description: resp.Description})
}

// errorBody is the JSON error body.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}
