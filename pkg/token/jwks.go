package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// MaxJWKSSize is the largest JWK Set document ParseJWKS reads, in bytes.
const MaxJWKSSize = 1 << 20

// JWK is one JSON Web Key (RFC 7517) as authd publishes it: public members
// only.
type JWK struct {
	// Kty is the key type: "EC", "OKP" or "RSA".
	Kty string `json:"kty"`
	// Kid is the key id.
	Kid string `json:"kid"`
	// Use is always "sig" for keys authd publishes.
	Use string `json:"use,omitempty"`
	// Alg is the one algorithm the key is used with.
	Alg string `json:"alg,omitempty"`
	// Crv is the curve of an EC or OKP key: "P-256" or "Ed25519".
	Crv string `json:"crv,omitempty"`
	// X is the x coordinate of an EC key, or the public key of an OKP key.
	X string `json:"x,omitempty"`
	// Y is the y coordinate of an EC key.
	Y string `json:"y,omitempty"`
	// N is the modulus of an RSA key.
	N string `json:"n,omitempty"`
	// E is the public exponent of an RSA key.
	E string `json:"e,omitempty"`
	// RetiredAt is the NumericDate (seconds since the epoch) at which the
	// key stopped or stops signing; absent while no retirement is set. It
	// is an extra member (RFC 7517 §4 lets a JWK carry members of its
	// issuer's own): verifiers that know it refuse tokens whose iat is
	// after it, the rest ignore it.
	RetiredAt int64 `json:"authd_retired_at,omitempty"`
}

// RetiredAtMember is the JWK member that carries Key.RetiredAt.
const RetiredAtMember = "authd_retired_at"

// JWKS is a JSON Web Key Set.
type JWKS struct {
	// Keys are the set's keys; never nil, so it encodes as [] when empty.
	Keys []JWK `json:"keys"`
}

// NewJWKS returns the public JWK Set of keys, in order; private parts are
// never included (JWK has no member for them). Each key needs an id and a
// public key that fits its algorithm; ids must be distinct.
func NewJWKS(keys []*Key) (JWKS, error) {
	set := JWKS{Keys: make([]JWK, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if k == nil || k.ID == "" {
			return JWKS{}, fmt.Errorf("%w: key %d is nil or has no id", ErrInvalidKey, i)
		}
		if seen[k.ID] {
			return JWKS{}, fmt.Errorf("%w: key id %s used twice", ErrInvalidKey, k.ID)
		}
		seen[k.ID] = true
		if err := checkPublic(k.Algorithm, k.Public); err != nil {
			return JWKS{}, fmt.Errorf("key %s: %w", k.ID, err)
		}
		j, err := publicJWK(k.Public)
		if err != nil {
			return JWKS{}, fmt.Errorf("key %s: %w", k.ID, err)
		}
		j.Kid, j.Use, j.Alg = k.ID, "sig", k.Algorithm
		if !k.RetiredAt.IsZero() {
			// Rounded down: a token signed in the retirement's own second
			// has that second as iat, which is not after it.
			j.RetiredAt = k.RetiredAt.Unix()
		}
		set.Keys = append(set.Keys, j)
	}
	return set, nil
}

// ParseJWKS parses a JWK Set (at most MaxJWKSSize bytes), keeping only
// signature keys it supports, as verification keys.
//
// A key is kept if its "use" is "sig" or absent, its "key_ops" (if any)
// include "verify", it carries no private member, and it is one of: EC
// P-256 (alg ES256 or absent), OKP Ed25519 (alg EdDSA or absent), RSA of
// 2048 to 8192 bits with alg RS256 (required: RSA keys serve PS256 too).
// Coordinates must be canonical, fixed-width and on the curve. Other keys
// are skipped, not errors. The id is "kid" if present, else the RFC 7638
// thumbprint; of two keys with one id the first wins. An
// "authd_retired_at" member (a positive NumericDate) sets the key's
// RetiredAt; one of another form makes the key skipped, since ignoring it
// would trust the key more than its issuer does.
//
// Member names match exactly (unlike encoding/json's default
// case-insensitive matching) and unknown members are ignored (RFC 7517
// §4). The error matches ErrInvalidJWKS if the document is malformed or no
// usable key remains.
func ParseJWKS(data []byte) ([]*Key, error) {
	if len(data) > MaxJWKSSize {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrInvalidJWKS, MaxJWKSSize)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidJWKS)
	}
	rawKeys, ok := doc["keys"]
	if !ok {
		return nil, fmt.Errorf("%w: no \"keys\" member", ErrInvalidJWKS)
	}
	var members []map[string]json.RawMessage
	if err := json.Unmarshal(rawKeys, &members); err != nil || members == nil {
		return nil, fmt.Errorf("%w: \"keys\" is not an array of objects", ErrInvalidJWKS)
	}
	var (
		keys    []*Key
		skipped []string // fixed reasons, never document content
		seen    = make(map[string]bool)
	)
	for i, m := range members {
		if m == nil {
			return nil, fmt.Errorf("%w: key %d is not an object", ErrInvalidJWKS, i)
		}
		k, err := parseJWK(m)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		if seen[k.ID] {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, errSkipDuplicate))
			continue
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if len(skipped) == 0 {
			return nil, fmt.Errorf("%w: no keys", ErrInvalidJWKS)
		}
		return nil, fmt.Errorf("%w: no usable key: %s", ErrInvalidJWKS, strings.Join(skipped, "; "))
	}
	return keys, nil
}

// Reasons a JWK is skipped. Fixed text: a foreign document's values never
// reach an error message.
var (
	errSkipDuplicate = errors.New("kid used by an earlier key")
	errSkipNotString = errors.New("a member is not a string")
	errSkipUse       = errors.New("not a signature key (use, key_ops)")
	errSkipPrivate   = errors.New("private key material published")
	errSkipKty       = errors.New("unsupported kty")
	errSkipCrv       = errors.New("unsupported crv")
	errSkipAlg       = errors.New("alg missing, unsupported or inconsistent with the key type")
	errSkipEncoding  = errors.New("key member not strict base64url of the right length")
	errSkipPoint     = errors.New("point not on the curve")
	errSkipKey       = errors.New("key rejected (size, exponent or weak point)")
	errSkipRetired   = errors.New(RetiredAtMember + " is not a positive NumericDate")
)

// privateMembers are the members that carry private key material (RFC 7518
// §6.2.2, §6.3.2, RFC 8037 §2) or a symmetric key ("k").
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK returns the verification key of one JWK, or why it is skipped.
func parseJWK(m map[string]json.RawMessage) (*Key, error) {
	str := func(name string) (string, bool, error) {
		raw, ok := m[name]
		if !ok {
			return "", false, nil
		}
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return "", true, errSkipNotString
		}
		return s, true, nil
	}
	var vals [5]string // kty, use, alg, kid, crv
	for i, name := range []string{"kty", "use", "alg", "kid", "crv"} {
		s, _, err := str(name)
		if err != nil {
			return nil, err
		}
		vals[i] = s
	}
	kty, use, alg, kid, crv := vals[0], vals[1], vals[2], vals[3], vals[4]
	if _, ok := m["use"]; ok && use != "sig" {
		return nil, errSkipUse
	}
	if raw, ok := m["key_ops"]; ok {
		var ops []string
		if json.Unmarshal(raw, &ops) != nil || !slices.Contains(ops, "verify") {
			return nil, errSkipUse
		}
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, errSkipPrivate
		}
	}
	bytesOf := func(name string, size int) ([]byte, error) {
		s, ok, err := str(name)
		if err != nil {
			return nil, err
		}
		b, derr := b64.DecodeString(s)
		if !ok || derr != nil || len(b) == 0 || (size > 0 && len(b) != size) {
			return nil, errSkipEncoding
		}
		return b, nil
	}

	// curve checks the crv of a key type with curves, and that alg, when
	// given, is the one algorithm we use with that curve.
	curve := func(wantCrv, curveAlg string) error {
		if crv != wantCrv {
			return errSkipCrv
		}
		if alg != "" && alg != curveAlg {
			return errSkipAlg
		}
		alg = curveAlg
		return nil
	}

	var pub crypto.PublicKey
	switch kty {
	case "EC":
		if err := curve("P-256", ES256); err != nil {
			return nil, err
		}
		x, err := bytesOf("x", 32)
		if err != nil {
			return nil, err
		}
		y, err := bytesOf("y", 32)
		if err != nil {
			return nil, err
		}
		// Rejects points off the curve and non-canonical coordinates.
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errSkipPoint
		}
		pub = k
	case "OKP":
		if err := curve("Ed25519", EdDSA); err != nil {
			return nil, err
		}
		x, err := bytesOf("x", ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		pub = ed25519.PublicKey(x)
	case "RSA":
		if alg != RS256 {
			return nil, errSkipAlg
		}
		n, err := bytesOf("n", 0)
		if err != nil {
			return nil, err
		}
		e, err := bytesOf("e", 0)
		if err != nil {
			return nil, err
		}
		// Leading zero octets (RFC 7518 forbids them, a few issuers emit
		// them) are tolerated: the value is what is checked.
		ev := new(big.Int).SetBytes(e)
		if !ev.IsInt64() || ev.Int64() > 1<<31-1 {
			return nil, errSkipKey
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}
	default:
		return nil, errSkipKty
	}
	if err := checkPublic(alg, pub); err != nil {
		return nil, errSkipKey
	}
	id, err := thumbprint(pub)
	if err != nil {
		return nil, errSkipKey
	}
	if kid == "" {
		kid = id
	}
	retired, err := retiredAt(m)
	if err != nil {
		return nil, err
	}
	return &Key{ID: kid, Algorithm: alg, Public: pub, RetiredAt: retired}, nil
}

// maxNumericDate bounds a retirement time to what time.Time and float64
// both hold exactly enough (year 10000).
const maxNumericDate = 253402300800

// retiredAt reads the RetiredAtMember of a JWK: zero when absent.
func retiredAt(m map[string]json.RawMessage) (time.Time, error) {
	raw, ok := m[RetiredAtMember]
	if !ok {
		return time.Time{}, nil
	}
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return time.Time{}, errSkipRetired
	}
	f, err := n.Float64()
	// 0 is refused with the negatives: a key retired in 1970 is a
	// mistake, and NewJWKS could not publish it (0 is its "none").
	if err != nil || !(f > 0) || f > maxNumericDate {
		return time.Time{}, errSkipRetired
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
