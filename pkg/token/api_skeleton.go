package token

// API contract (skeleton to be replaced by the implementation; signatures are
// fixed, bodies are not).

import (
	"context"
	"crypto"
	"time"
)

// Key is one signing or verification key.
type Key struct {
	// ID is the JWK "kid": the RFC 7638 thumbprint of the public key.
	ID string
	// Algorithm is ES256, EdDSA or RS256; a token is only ever verified
	// with its key's own algorithm.
	Algorithm string
	// Public is *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey.
	Public crypto.PublicKey
	// Private is nil for verification-only keys.
	Private crypto.Signer
}

// GenerateKey creates a new key pair for alg (RS256: 2048-bit... see impl).
func GenerateKey(alg string) (*Key, error) { panic("skeleton") }

// MarshalPublicKey returns the PKIX DER encoding of k's public key.
func (k *Key) MarshalPublicKey() ([]byte, error) { panic("skeleton") }

// ParsePublicKey rebuilds a verification key from its PKIX DER encoding;
// kid is recomputed and must equal id.
func ParsePublicKey(id, alg string, der []byte) (*Key, error) { panic("skeleton") }

// SealPrivateKey encrypts k's private key with AES-256-GCM under masterKey
// (32 bytes), binding kid and alg as additional data.
func SealPrivateKey(masterKey []byte, k *Key) ([]byte, error) { panic("skeleton") }

// OpenPrivateKey decrypts a sealed private key and returns the full key.
func OpenPrivateKey(masterKey []byte, id, alg string, sealed []byte) (*Key, error) {
	panic("skeleton")
}

// Sign mints a JWT of type typ (TypeAccess or TypeRefresh) with header
// {alg, typ, kid} and the given claims.
func Sign(k *Key, typ string, c *Claims) (string, error) { panic("skeleton") }

// KeySet gives a verifier the key a token names.
type KeySet interface {
	// VerificationKey returns the key with id kid. kid may be empty: a
	// set with exactly one key returns it, otherwise ErrUnknownKey.
	VerificationKey(ctx context.Context, kid string) (*Key, error)
}

// StaticKeySet is a fixed set of verification keys.
type StaticKeySet []*Key

// VerificationKey implements KeySet.
func (s StaticKeySet) VerificationKey(ctx context.Context, kid string) (*Key, error) {
	panic("skeleton")
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// Verifier verifies tokens of one type for one issuer and audience.
type Verifier struct{}

// NewVerifier returns a verifier; WithIssuer and WithAudience are required.
func NewVerifier(keys KeySet, opts ...VerifierOption) (*Verifier, error) { panic("skeleton") }

// WithIssuer sets the required "iss".
func WithIssuer(iss string) VerifierOption { panic("skeleton") }

// WithAudience sets the accepted audiences; the token must name one.
func WithAudience(aud ...string) VerifierOption { panic("skeleton") }

// WithType sets the required "typ" (default TypeAccess).
func WithType(typ string) VerifierOption { panic("skeleton") }

// WithAllowedAlgorithms restricts the accepted algorithms (default all three).
func WithAllowedAlgorithms(algs ...string) VerifierOption { panic("skeleton") }

// WithLeeway sets the clock-skew allowance (default 5s, at most 60s).
func WithLeeway(d time.Duration) VerifierOption { panic("skeleton") }

// WithClock sets the time source.
func WithClock(now func() time.Time) VerifierOption { panic("skeleton") }

// Verify checks raw and returns its claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) { panic("skeleton") }

// JWK is one JSON Web Key (RFC 7517) as authd publishes it.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewJWKS returns the public JWK Set of keys (private parts never included).
func NewJWKS(keys []*Key) (JWKS, error) { panic("skeleton") }

// ParseJWKS parses a JWK Set, keeping only signature keys it supports.
func ParseJWKS(data []byte) ([]*Key, error) { panic("skeleton") }
