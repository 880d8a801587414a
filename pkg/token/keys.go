package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"
)

// RSA modulus bounds. RFC 9068 makes RS256 mandatory to implement and
// RFC 7518 §3.3 sets 2048 bits as the floor; the ceiling only bounds the
// cost of a verification with a foreign key.
const (
	rsaGenerateBits = 2048
	rsaMinBits      = 2048
	rsaMaxBits      = 8192
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
	// Private is nil for verification-only keys. Sign needs the concrete
	// standard library type: *ecdsa.PrivateKey, ed25519.PrivateKey or
	// *rsa.PrivateKey.
	Private crypto.Signer
	// RetiredAt, when not zero, is when the key stopped (or will stop)
	// signing: a Checker refuses a token it signed whose iat is after
	// RetiredAt plus the leeway, so a stolen retired key cannot mint
	// fresh tokens. Key sets report it; JWKS carry it as "authd_retired_at".
	RetiredAt time.Time
}

// GenerateKey creates a new key pair for alg, with all randomness from
// crypto/rand: ES256 gives a P-256 key, EdDSA an Ed25519 key and RS256 a
// 2048-bit RSA key (the minimum RFC 7518 allows; RS256 exists for RFC 9068
// interoperability, ES256 and EdDSA are smaller and faster). The ID is the
// RFC 7638 thumbprint of the public key. An unknown alg matches
// ErrUnsupportedAlg.
func GenerateKey(alg string) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaGenerateBits)
	default:
		return nil, fmt.Errorf("%w: cannot generate a key for %q", ErrUnsupportedAlg, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	return keyFromSigner(alg, priv)
}

// NewKey wraps an existing private key (imported from PEM, say) as a Key
// for alg: the key type must fit alg as for ParsePublicKey, and the ID is
// computed (RFC 7638 thumbprint). priv must be *ecdsa.PrivateKey,
// ed25519.PrivateKey or *rsa.PrivateKey for Sign to use it.
func NewKey(alg string, priv crypto.Signer) (*Key, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrNoPrivateKey)
	}
	return keyFromSigner(alg, priv)
}

// keyFromSigner completes a Key from its private part, checking that the
// key type fits alg.
func keyFromSigner(alg string, priv crypto.Signer) (*Key, error) {
	pub := priv.Public()
	if err := checkPublic(alg, pub); err != nil {
		return nil, err
	}
	id, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, Algorithm: alg, Public: pub, Private: priv}, nil
}

// MarshalPublicKey returns the PKIX DER encoding of k's public key.
func (k *Key) MarshalPublicKey() ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if err := checkPublic(k.Algorithm, k.Public); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode public key", ErrInvalidKey)
	}
	return der, nil
}

// ParsePublicKey rebuilds a verification key from its PKIX DER encoding.
// The key type must fit alg (P-256 for ES256, Ed25519 for EdDSA, RSA of at
// least 2048 bits for RS256) and its recomputed RFC 7638 thumbprint must
// equal id. Failures match ErrInvalidKey (or ErrUnsupportedAlg).
func ParsePublicKey(id, alg string, der []byte) (*Key, error) {
	if !supportedAlg(alg) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: public key is not valid PKIX DER", ErrInvalidKey)
	}
	if err := checkPublic(alg, pub); err != nil {
		return nil, err
	}
	got, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	if got != id {
		return nil, fmt.Errorf("%w: key id is not the public key's thumbprint", ErrInvalidKey)
	}
	return &Key{ID: id, Algorithm: alg, Public: pub}, nil
}

// supportedAlg reports whether alg is one this package signs and verifies.
func supportedAlg(alg string) bool {
	return alg == ES256 || alg == EdDSA || alg == RS256
}

// checkPublic reports whether pub is an acceptable public key for alg.
func checkPublic(alg string, pub crypto.PublicKey) error {
	switch alg {
	case ES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ES256 needs a P-256 ECDSA public key", ErrInvalidKey)
		}
		// Bytes fails for a point that is not on the curve.
		if _, err := k.Bytes(); err != nil {
			return fmt.Errorf("%w: ES256 public key is not a valid P-256 point", ErrInvalidKey)
		}
	case EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: EdDSA needs an Ed25519 public key", ErrInvalidKey)
		}
		if weakEd25519(k) {
			return fmt.Errorf("%w: Ed25519 public key is a low-order or non-canonical point", ErrInvalidKey)
		}
	case RS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return fmt.Errorf("%w: RS256 needs an RSA public key", ErrInvalidKey)
		}
		if bits := k.N.BitLen(); bits < rsaMinBits || bits > rsaMaxBits {
			return fmt.Errorf("%w: RSA modulus of %d bits (want %d to %d)", ErrInvalidKey, bits, rsaMinBits, rsaMaxBits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("%w: RSA public exponent must be odd and at least 3", ErrInvalidKey)
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	return nil
}
