package token

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RegisteredClaims are the RFC 7519 §4.1 claims of authd's tokens. They are
// ours, not golang-jwt's, so that the JWT library stays an implementation
// detail of this package: a service can depend on pkg/token and
// pkg/middleware without golang-jwt becoming part of its API. The JSON is
// the same as golang-jwt's (aud written as an array, times in whole seconds).
type RegisteredClaims struct {
	// Issuer is the "iss" claim.
	Issuer string `json:"iss,omitempty"`
	// Subject is the "sub" claim.
	Subject string `json:"sub,omitempty"`
	// Audience is the "aud" claim.
	Audience ClaimStrings `json:"aud,omitempty"`
	// ExpiresAt is the "exp" claim.
	ExpiresAt *NumericDate `json:"exp,omitempty"`
	// NotBefore is the "nbf" claim.
	NotBefore *NumericDate `json:"nbf,omitempty"`
	// IssuedAt is the "iat" claim.
	IssuedAt *NumericDate `json:"iat,omitempty"`
	// ID is the "jti" claim.
	ID string `json:"jti,omitempty"`
}

// NumericDate is a JWT NumericDate (RFC 7519 §2): seconds since the epoch.
type NumericDate struct {
	time.Time
}

// NewNumericDate returns t as a NumericDate, truncated to the whole second
// it is encoded with.
func NewNumericDate(t time.Time) *NumericDate {
	return &NumericDate{t.Truncate(time.Second)}
}

// MarshalJSON encodes the date as a JSON number of seconds.
func (d NumericDate) MarshalJSON() ([]byte, error) {
	return jwt.NewNumericDate(d.Time).MarshalJSON()
}

// UnmarshalJSON decodes a JSON number of seconds; a fraction is allowed
// and truncated to the second, as golang-jwt does.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var j jwt.NumericDate
	if err := j.UnmarshalJSON(b); err != nil {
		return err
	}
	d.Time = j.Time
	return nil
}

// ClaimStrings is a claim that is one string or an array of strings, such
// as "aud"; it is always encoded as an array.
type ClaimStrings []string

// MarshalJSON encodes the strings as a JSON array.
func (s ClaimStrings) MarshalJSON() ([]byte, error) {
	return jwt.ClaimStrings(s).MarshalJSON()
}

// UnmarshalJSON decodes a JSON string or array of strings.
func (s *ClaimStrings) UnmarshalJSON(b []byte) error {
	var j jwt.ClaimStrings
	if err := j.UnmarshalJSON(b); err != nil {
		return err
	}
	*s = ClaimStrings(j)
	return nil
}

// jwtClaims adapts a Payload to golang-jwt's Claims interface, which the
// parser validates exp, nbf, iat, iss and aud through; keeping the methods
// here keeps golang-jwt's types out of Payload's method set.
type jwtClaims struct {
	*Payload
}

var _ jwt.Claims = jwtClaims{}

func jwtDate(d *NumericDate) *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return jwt.NewNumericDate(d.Time)
}

func (c jwtClaims) GetExpirationTime() (*jwt.NumericDate, error) { return jwtDate(c.ExpiresAt), nil }
func (c jwtClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return jwtDate(c.IssuedAt), nil }
func (c jwtClaims) GetNotBefore() (*jwt.NumericDate, error)      { return jwtDate(c.NotBefore), nil }
func (c jwtClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c jwtClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c jwtClaims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(c.Audience), nil }
