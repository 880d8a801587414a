package token

import (
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// signingMethod returns golang-jwt's method for alg, or nil.
func signingMethod(alg string) jwt.SigningMethod {
	switch alg {
	case ES256:
		return jwt.SigningMethodES256
	case EdDSA:
		return jwt.SigningMethodEdDSA
	case RS256:
		return jwt.SigningMethodRS256
	}
	return nil
}

// Sign mints a JWT of type typ (TypeAccess or TypeRefresh) with header
// exactly {alg, typ, kid} and the given claims, which are not modified. An
// access token always carries "roles", as [] when c.Roles is empty.
//
// It refuses a key without a private part (ErrNoPrivateKey) and, matching
// ErrInvalidToken, claims that its own Checker would refuse: sub, jti, iss,
// aud, iat and exp are required, exp must be after iat, and a refresh token
// needs sid.
func Sign(k *Key, typ string, c *Payload) (string, error) {
	if k == nil || k.Private == nil {
		return "", fmt.Errorf("%w: cannot sign", ErrNoPrivateKey)
	}
	m := signingMethod(k.Algorithm)
	if m == nil {
		return "", fmt.Errorf("%w: cannot sign with %q", ErrUnsupportedAlg, k.Algorithm)
	}
	if typ != TypeAccess && typ != TypeRefresh {
		return "", fmt.Errorf("%w: cannot sign a token of type %q", ErrWrongType, typ)
	}
	if err := checkSignClaims(typ, c); err != nil {
		return "", err
	}
	var claims jwt.Claims = jwtClaims{c}
	if typ == TypeAccess {
		claims = accessClaims{jwtClaims: jwtClaims{c}, Roles: c.Roles}
		if c.Roles == nil {
			claims = accessClaims{jwtClaims: jwtClaims{c}, Roles: []string{}}
		}
	}
	t := &jwt.Token{
		Method: m,
		Header: map[string]any{"alg": k.Algorithm, "typ": typ, "kid": k.ID},
		Claims: claims,
	}
	s, err := t.SignedString(k.Private)
	if err != nil {
		return "", fmt.Errorf("token: sign with %s key %s: %w", k.Algorithm, k.ID, err)
	}
	return s, nil
}

// accessClaims is how an access token's claims are encoded: "roles" is
// always present, [] for a user with none (RFC 9068 §2.2.3.1 lists the
// claim; our API contract promises it), while refresh tokens, which carry
// no roles, keep omitting it. The outer Roles shadows Payload.Roles in
// encoding/json, the shallower field winning.
type accessClaims struct {
	jwtClaims
	Roles []string `json:"roles"`
}

// checkSignClaims refuses claims that would never verify.
func checkSignClaims(typ string, c *Payload) error {
	if c == nil {
		return fmt.Errorf("%w: cannot sign nil claims", ErrInvalidToken)
	}
	var missing string
	switch {
	case c.Subject == "":
		missing = "sub"
	case c.ID == "":
		missing = "jti"
	case c.Issuer == "":
		missing = "iss"
	case len(c.Audience) == 0 || slices.Contains(c.Audience, ""):
		missing = "aud"
	case c.IssuedAt == nil:
		missing = "iat"
	case c.ExpiresAt == nil:
		missing = "exp"
	case typ == TypeRefresh && c.SessionID == "":
		missing = "sid"
	}
	if missing != "" {
		return fmt.Errorf("%w: cannot sign: claim %q is required", ErrInvalidToken, missing)
	}
	if !c.ExpiresAt.After(c.IssuedAt.Time) {
		return fmt.Errorf("%w: cannot sign: exp must be after iat", ErrInvalidToken)
	}
	return nil
}
