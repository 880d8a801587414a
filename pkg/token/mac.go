package token

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"

	"github.com/golang-jwt/jwt/v5"
)

// HS256 is HMAC-SHA-256 (RFC 7518 §3.2). This package uses it only for
// refresh tokens: tokens their issuer alone reads, so no one else needs a
// key to check them, and a MAC costs about a microsecond where an ES256
// signature costs 30-70. An access token is never MACed: resource servers
// verify access tokens from the published JWKS.
const HS256 = "HS256"

// MACKeySize is the length of a MAC key's secret in bytes: the hash
// output size, the minimum RFC 7518 §3.2 allows for HS256.
const MACKeySize = sha256.Size

// MACKey is a secret HS256 key with an id (the token's "kid"). The secret is
// unexported and never printed: String, LogValue and GoString show the id.
type MACKey struct {
	// ID is the "kid" of the tokens the key MACs.
	ID     string
	secret []byte
}

// NewMACKey returns a MAC key with a copy of secret, which must be exactly
// MACKeySize bytes of key material (random, or derived as by DeriveMACKey).
func NewMACKey(id string, secret []byte) (*MACKey, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: a MAC key needs an id", ErrInvalidKey)
	}
	if len(secret) != MACKeySize {
		return nil, fmt.Errorf("%w: MAC key %s: secret is %d bytes, want %d", ErrInvalidKey, id, len(secret), MACKeySize)
	}
	return &MACKey{ID: id, secret: append([]byte(nil), secret...)}, nil
}

// DeriveMACKey derives the MAC key named id from a master secret with HKDF-
// SHA-256 (RFC 5869), using info to separate purposes; id is part of the
// derivation, so every id yields an independent key and everyone holding
// the master secret derives the same one.
func DeriveMACKey(master []byte, info, id string) (*MACKey, error) {
	if len(master) < MACKeySize {
		return nil, fmt.Errorf("%w: the master secret is %d bytes, want at least %d", ErrInvalidKey, len(master), MACKeySize)
	}
	secret, err := hkdf.Key(sha256.New, master, nil, info+"\x00"+id, MACKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: derive MAC key %s: %v", ErrInvalidKey, id, err)
	}
	return NewMACKey(id, secret)
}

// String names the key without its secret.
func (k MACKey) String() string { return "MACKey(" + k.ID + ")" }

// GoString names the key without its secret (for %#v).
func (k MACKey) GoString() string { return k.String() }

// LogValue logs the key's id only.
func (k MACKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MACKeySet gives a verifier the MAC key a token names. Errors follow the
// KeySet contract: ErrKeySetUnavailable when the set cannot answer, any
// other error (or a nil key) when it does not know the id.
type MACKeySet interface {
	MACKey(ctx context.Context, kid string) (*MACKey, error)
}

// SignMAC mints a refresh token (typ TypeRefresh) MACed with HS256, with
// header exactly {alg, typ, kid}. It checks the claims as Sign does; any
// other type matches ErrWrongType, because a token anyone else verifies
// must be signed with a published asymmetric key.
func SignMAC(k *MACKey, typ string, c *Payload) (string, error) {
	if k == nil || len(k.secret) != MACKeySize {
		return "", fmt.Errorf("%w: cannot MAC without a key made by NewMACKey", ErrInvalidKey)
	}
	if typ != TypeRefresh {
		return "", fmt.Errorf("%w: only %s tokens are MACed, not %q", ErrWrongType, TypeRefresh, typ)
	}
	if err := checkSignClaims(typ, c); err != nil {
		return "", err
	}
	t := &jwt.Token{
		Method: jwt.SigningMethodHS256,
		Header: map[string]any{"alg": HS256, "typ": typ, "kid": k.ID},
		Claims: jwtClaims{c},
	}
	s, err := t.SignedString(k.secret)
	if err != nil {
		return "", fmt.Errorf("token: MAC with key %s: %w", k.ID, err)
	}
	return s, nil
}
