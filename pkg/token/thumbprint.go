package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
)

// b64 is the JOSE base64url encoding: no padding, and strict on decode
// (no padding, no '+' or '/', no set trailing bits).
var b64 = base64.RawURLEncoding.Strict()

// publicJWK returns the key-type members of pub's JWK: kty and crv, x, y
// for EC (fixed 32-byte coordinates, RFC 7518 §6.2.1.2), kty, crv and x for
// OKP (RFC 8037), kty, n and e for RSA (big-endian, no leading zero octets,
// RFC 7518 §6.3.1).
func publicJWK(pub crypto.PublicKey) (JWK, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return JWK{}, fmt.Errorf("%w: only P-256 ECDSA keys are supported", ErrInvalidKey)
		}
		raw, err := k.Bytes() // 0x04 || X || Y, each 32 bytes
		if err != nil {
			return JWK{}, fmt.Errorf("%w: invalid P-256 point", ErrInvalidKey)
		}
		return JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:65])}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return JWK{}, fmt.Errorf("%w: Ed25519 public key of wrong length", ErrInvalidKey)
		}
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(k)}, nil
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.E <= 0 {
			return JWK{}, fmt.Errorf("%w: incomplete RSA public key", ErrInvalidKey)
		}
		e := big.NewInt(int64(k.E)).Bytes()
		return JWK{Kty: "RSA", N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(e)}, nil
	default:
		return JWK{}, fmt.Errorf("%w: unsupported public key type %T", ErrInvalidKey, pub)
	}
}

// thumbprint returns the RFC 7638 JWK thumbprint of pub: SHA-256 over the
// key's required members in lexicographic order without whitespace,
// base64url without padding. Base64url never needs JSON escaping, so the
// members are written directly.
func thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	var in string
	switch j.Kty {
	case "EC":
		in = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		in = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	case "RSA":
		in = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	}
	sum := sha256.Sum256([]byte(in))
	return b64.EncodeToString(sum[:]), nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of a public key (an
// *ecdsa.PublicKey on P-256, an ed25519.PublicKey or an *rsa.PublicKey):
// the kid authd gives its keys.
func Thumbprint(pub crypto.PublicKey) (string, error) { return thumbprint(pub) }
