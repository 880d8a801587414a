// Package token mints and verifies authd's JWTs: RFC 9068 access tokens
// (typ "at+jwt") and refresh tokens (typ "refresh+jwt"), and publishes the
// verification keys as a JWK Set.
//
// It knows nothing of HTTP, SQL or users. Verification follows RFC 8725:
// the algorithm is pinned to the key's own (never the header's choice),
// base64 is decoded strictly, typ is checked, unknown crit headers are
// refused, jku/x5u/jwk/x5c are ignored, kid selects only among the key set's
// own keys, and leeway is bounded to seconds.
package token

import "errors"

// Token types, as carried in the JOSE "typ" header.
const (
	// TypeAccess is the RFC 9068 access token type.
	TypeAccess = "at+jwt"
	// TypeRefresh is authd's refresh token type; it never passes as an
	// access token and vice versa.
	TypeRefresh = "refresh+jwt"
)

// Supported signing algorithms.
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
)

// Sentinel errors. Every verification failure matches ErrInvalidToken; the
// more specific ones below match too, so callers can tell expiry apart.
var (
	ErrInvalidToken      = errors.New("token: invalid token")
	ErrExpired           = errors.New("token: expired")
	ErrNotYetValid       = errors.New("token: not yet valid")
	ErrWrongType         = errors.New("token: wrong token type")
	ErrUnknownKey        = errors.New("token: unknown signing key")
	ErrUnsupportedAlg    = errors.New("token: unsupported algorithm")
	ErrKeySetUnavailable = errors.New("token: key set unavailable")
)

// Payload is the claim set of authd's tokens as signed (the JWT payload;
// pkg/middleware.Claims is the verified view). Access tokens carry every
// field; refresh tokens carry the registered claims and SessionID.
type Payload struct {
	RegisteredClaims
	// SessionID is the "sid" claim: the session (refresh family).
	SessionID string `json:"sid,omitempty"`
	// ClientID is the RFC 9068 "client_id" claim.
	ClientID string `json:"client_id,omitempty"`
	// Roles is the RFC 9068 §7.2.1 "roles" claim. Sign always writes it
	// in access tokens ([] when empty); refresh tokens leave it out.
	Roles []string `json:"roles,omitempty"`
	// Scope is the space-separated "scope" claim.
	Scope string `json:"scope,omitempty"`
	// AMR is the RFC 8176 "amr" claim: how the user authenticated
	// (["pwd"], ["pwd","otp"]). Tokens of service clients have none.
	AMR []string `json:"amr,omitempty"`
	// AuthTime is the RFC 9068 §2.2.1 "auth_time" claim: when the user
	// last authenticated actively (the login, or a later step-up).
	AuthTime *NumericDate `json:"auth_time,omitempty"`
}
