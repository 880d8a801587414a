package token

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// errNotConstructed is returned by a Checker not made by NewChecker: a
// programming error, not a bad token.
var errNotConstructed = errors.New("token: Checker not created by NewChecker")

// Verify checks raw and returns its claims.
//
// Checks, in order: size (at most MaxTokenSize), strict base64url and JSON
// (golang-jwt); header: no crit, typ equal to the verifier's type
// (case-insensitive, "application/" prefix allowed: RFC 7515 §4.1.9,
// RFC 9068 §2.1), kid looked up in the KeySet (jku, jwk, x5u and x5c are
// never read), alg equal to that key's own algorithm and allowed; the
// signature; then exp (required), nbf (if present), iat (required, not in
// the future), iss and aud, all with the leeway; then non-empty sub and jti,
// and sid for refresh tokens; then iat not after the key's RetiredAt and,
// with WithMaxLifetime, exp - iat within the bound, both with the leeway.
//
// Every failure matches ErrInvalidToken and, where it applies, ErrExpired,
// ErrNotYetValid, ErrWrongType, ErrUnknownKey or ErrUnsupportedAlg. A key
// set that cannot answer yields an error matching ErrKeySetUnavailable and
// not ErrInvalidToken. Error text never contains the token.
//
// ECDSA signatures are malleable: golang-jwt, like most JOSE libraries,
// accepts (r, n-s) as well as (r, s), so one token has two valid
// encodings. That is accepted here too; revocation is keyed on jti and sid,
// never on the token string, so it does not matter.
func (v *Checker) Verify(ctx context.Context, raw string) (*Payload, error) {
	if v == nil || v.parser == nil {
		return nil, errNotConstructed
	}
	if raw == "" {
		return nil, invalid(ErrInvalidToken, "empty token")
	}
	if len(raw) > MaxTokenSize {
		return nil, invalid(ErrInvalidToken, "token too large")
	}
	c := new(Payload)
	var signer *Key // the asymmetric key that verified the signature
	tok, err := v.parser.ParseWithClaims(raw, &jwtClaims{c}, func(t *jwt.Token) (any, error) {
		k, secret, err := v.key(ctx, t)
		signer = k
		return secret, err
	})
	if err != nil {
		return nil, v.classify(tok, err)
	}
	var missing string
	switch {
	case c.Subject == "":
		missing = "sub claim is required"
	case c.ID == "":
		missing = "jti claim is required"
	case c.IssuedAt == nil:
		missing = "iat claim is required"
	case v.refresh && c.SessionID == "":
		missing = "sid claim is required in a refresh token"
	}
	if missing != "" {
		return nil, invalid(ErrInvalidToken, missing)
	}
	if err := v.checkLifetime(c, signer); err != nil {
		return nil, err
	}
	return c, nil
}

// checkLifetime applies the two rules that bound what a stolen signing key
// can mint: no token issued after its key was retired (a key set reports
// the retirement in Key.RetiredAt), and, with WithMaxLifetime, no token
// that lives longer than its issuer ever issues. Both run after the
// signature check, so that their answers say nothing about forged tokens.
func (v *Checker) checkLifetime(c *Payload, signer *Key) error {
	if signer.IssuedAfterRetirement(c.IssuedAt.Time, v.leeway) {
		return invalid(ErrInvalidToken, "iat is after the signing key was retired")
	}
	if ExceedsLifetime(c.IssuedAt.Time, c.ExpiresAt.Time, v.maxLifetime, v.leeway) {
		return invalid(ErrInvalidToken, "exp - iat exceeds the maximum token lifetime")
	}
	return nil
}

// IssuedAfterRetirement reports whether a token issued at iat cannot have
// been signed by k: k has a RetiredAt and iat is after it plus leeway. A
// nil k or one not retired admits any iat. Verifiers that keep their own
// copy of verified claims (pkg/middleware's cache) re-check with it.
func (k *Key) IssuedAfterRetirement(iat time.Time, leeway time.Duration) bool {
	return k != nil && !k.RetiredAt.IsZero() && iat.After(k.RetiredAt.Add(leeway))
}

// WithinValidity reports whether a token with these times is valid at
// now under leeway: now < exp + leeway, and neither iat nor nbf (zero:
// absent) after now + leeway. These are the time rules a Checker applies
// (golang-jwt's, as the Checker configures them); a verifier that keeps
// verified claims and re-checks them later (pkg/middleware's cache) asks
// this function, so the two cannot drift apart.
func WithinValidity(now, iat, nbf, exp time.Time, leeway time.Duration) bool {
	if !now.Before(exp.Add(leeway)) {
		return false
	}
	if now.Before(iat.Add(-leeway)) {
		return false
	}
	return nbf.IsZero() || !now.Before(nbf.Add(-leeway))
}

// ExceedsLifetime reports whether a token from iat to exp lives longer than
// max plus leeway; a max of 0 bounds nothing.
func ExceedsLifetime(iat, exp time.Time, max, leeway time.Duration) bool {
	return max > 0 && exp.Sub(iat) > max+leeway
}

// key is the golang-jwt keyfunc: it runs after the header is decoded and
// before the signature is checked. It returns the asymmetric key (nil for
// an HS256 token) and what golang-jwt verifies with.
func (v *Checker) key(ctx context.Context, t *jwt.Token) (*Key, any, error) {
	h := t.Header
	if _, ok := h["crit"]; ok {
		// RFC 7515 §4.1.11: we understand no extension, so any crit
		// (even an empty one, which is itself invalid) is refused.
		return nil, nil, invalid(ErrInvalidToken, "crit header present: no extension is supported")
	}
	typ, _ := h["typ"].(string)
	if !typeMatches(typ, v.typ) {
		return nil, nil, invalid(ErrWrongType, "typ header is not "+v.typ)
	}
	var kid string
	if x, ok := h["kid"]; ok {
		if kid, ok = x.(string); !ok {
			return nil, nil, invalid(ErrUnknownKey, "kid header is not a string")
		}
	}
	if t.Method.Alg() == HS256 {
		secret, err := v.macKey(ctx, kid)
		return nil, secret, err
	}
	k, err := v.keys.VerificationKey(ctx, kid)
	if err != nil {
		return nil, nil, keyLookupError(err)
	}
	if k == nil {
		return nil, nil, invalid(ErrUnknownKey, "no verification key for the token's kid")
	}
	// Pin the algorithm to the key's own: the header only selects among
	// what the key allows, which defeats algorithm confusion (HS256 with
	// the public key as secret, "none", ES256 against an EdDSA key).
	if alg := t.Method.Alg(); alg != k.Algorithm || !v.algs.has(alg) {
		return nil, nil, invalid(ErrUnsupportedAlg, "alg header is not the key's algorithm or is not allowed")
	}
	return k, k.Public, nil
}

// macKey returns the secret of an HS256 token's key. The parser admits
// HS256 only when the verifier has MAC keys, and MAC keys exist only for
// refresh tokens; the check is repeated so that this stays true whatever
// the parser's options become.
func (v *Checker) macKey(ctx context.Context, kid string) (any, error) {
	if v.macKeys == nil {
		return nil, invalid(ErrUnsupportedAlg, "alg header is not the key's algorithm or is not allowed")
	}
	k, err := v.macKeys.MACKey(ctx, kid)
	if err != nil {
		return nil, keyLookupError(err)
	}
	if k == nil || len(k.secret) != MACKeySize {
		return nil, invalid(ErrUnknownKey, "no verification key for the token's kid")
	}
	return k.secret, nil
}

// mediaTypePrefix may precede a typ value (RFC 7515 §4.1.9).
const mediaTypePrefix = "application/"

// typeMatches compares a typ header with want, case-insensitively and
// ignoring an "application/" prefix.
func typeMatches(typ, want string) bool {
	if len(typ) > len(mediaTypePrefix) && strings.EqualFold(typ[:len(mediaTypePrefix)], mediaTypePrefix) {
		typ = typ[len(mediaTypePrefix):]
	}
	return strings.EqualFold(typ, want)
}

// classify turns a golang-jwt error into ours. Errors from our keyfunc are
// returned as they are; golang-jwt's are mapped by sentinel to fixed text.
func (v *Checker) classify(tok *jwt.Token, err error) error {
	var ve *verifyError
	if errors.As(err, &ve) {
		return ve
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &verifyError{kind: ErrInvalidToken, reason: "malformed token", cause: err}
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Our keyfunc's errors were handled above: this is an alg header
		// that is missing or names no algorithm golang-jwt knows.
		return &verifyError{kind: ErrUnsupportedAlg, reason: "alg header missing or unknown", cause: err}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Method != nil && !v.algs.has(tok.Method.Alg()) {
			return &verifyError{kind: ErrUnsupportedAlg, reason: "alg header is not an allowed algorithm", cause: err}
		}
		return &verifyError{kind: ErrInvalidToken, reason: "signature is invalid", cause: err}
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return claimsError(err, tok)
	}
	return &verifyError{kind: ErrInvalidToken, reason: "rejected", cause: err}
}

// claimsError maps golang-jwt's claim validation errors (several may be
// joined) to one error. Expiry wins the kind, then not-yet-valid; the text
// lists every problem.
func claimsError(err error, tok *jwt.Token) error {
	kind := ErrInvalidToken
	var reasons []string
	for _, m := range []struct {
		jwtErr error
		kind   error
		reason string
	}{
		{jwt.ErrTokenExpired, ErrExpired, "exp is in the past"},
		{jwt.ErrTokenNotValidYet, ErrNotYetValid, "nbf is in the future"},
		{jwt.ErrTokenUsedBeforeIssued, ErrNotYetValid, "iat is in the future"},
		{jwt.ErrTokenInvalidIssuer, nil, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, nil, "wrong audience"},
		{jwt.ErrInvalidType, nil, "a claim has the wrong type"},
	} {
		if !errors.Is(err, m.jwtErr) {
			continue
		}
		reasons = append(reasons, m.reason)
		if m.kind != nil && kind == ErrInvalidToken {
			kind = m.kind
		}
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		// The claims were decoded: name what is missing.
		var c *Payload
		if tok != nil {
			if jc, ok := tok.Claims.(*jwtClaims); ok {
				c = jc.Payload
			}
		}
		if c != nil {
			if c.ExpiresAt == nil {
				reasons = append(reasons, "exp claim is required")
			}
			if c.Issuer == "" {
				reasons = append(reasons, "iss claim is required")
			}
			if len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "" {
				reasons = append(reasons, "aud claim is required")
			}
		} else {
			reasons = append(reasons, "a required claim is missing")
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "claims rejected")
	}
	return &verifyError{kind: kind, reason: strings.Join(reasons, ", "), cause: err}
}
