package middleware

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Claims is what a verified access token says.
type Claims struct {
	// Issuer is "iss".
	Issuer string
	// Subject is "sub": the user id, or a service client's id (see
	// IsClient).
	Subject string
	// Audience is "aud".
	Audience []string
	// ClientID is the RFC 9068 "client_id".
	ClientID string
	// SessionID is "sid": the login session the token belongs to.
	SessionID string
	// TokenID is "jti".
	TokenID string
	// Roles is the RFC 9068 §7.2.1 "roles" claim.
	Roles []string
	// Scope is the space-separated "scope" claim; see Scopes.
	Scope string
	// AMR is the RFC 8176 "amr" claim: the methods the user authenticated
	// with, such as ["pwd"] or ["pwd","otp"]; see HasAMR.
	AMR []string
	// AuthTime is "auth_time": when the user last authenticated actively
	// (zero when the token has none).
	AuthTime time.Time
	// IssuedAt is "iat".
	IssuedAt time.Time
	// ExpiresAt is "exp".
	ExpiresAt time.Time
}

// Scopes returns the scope claim split on spaces (RFC 6749 §3.3); nil when
// there is none.
func (c *Claims) Scopes() []string {
	if c == nil {
		return nil
	}
	return strings.Fields(c.Scope)
}

// HasScope reports whether the scope claim lists scope. It does not
// allocate.
func (c *Claims) HasScope(scope string) bool {
	if c == nil || scope == "" {
		return false
	}
	for s := range strings.FieldsSeq(c.Scope) {
		if s == scope {
			return true
		}
	}
	return false
}

// HasAMR reports whether the amr claim lists method.
func (c *Claims) HasAMR(method string) bool {
	return c != nil && method != "" && slices.Contains(c.AMR, method)
}

// IsClient reports whether the token is a service client's (obtained
// with the client_credentials grant) rather than a user's: it has no
// session ("sid" empty) and its "client_id" is its "sub" (RFC 9068 §2.2:
// a token for the client itself). A user's token always carries the sid
// of the login session it came from. Use it to keep endpoints about a
// person's account away from machines.
func (c *Claims) IsClient() bool {
	return c != nil && c.SessionID == "" && c.ClientID != "" && c.ClientID == c.Subject
}

// HasRole reports whether the roles claim lists role.
func (c *Claims) HasRole(role string) bool {
	return c != nil && role != "" && slices.Contains(c.Roles, role)
}

// claimsKey is the context key of the claims; unexported so that only
// WithClaims and ClaimsFrom use it.
type claimsKey struct{}

// WithClaims returns a context carrying c. Handler and ginmw.Authenticate
// call it; tests of downstream handlers may too.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the verified claims stored by Handler (or
// ginmw.Authenticate); ok is false when there are none.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
