// Package mfa holds the second-factor primitives the service builds on:
// RFC 6238 TOTP secrets and codes (through github.com/pquerna/otp), the
// sealing of secrets at rest, single-use recovery codes and the mfa_token
// that carries a half-finished login to its second step. It keeps no state
// and knows no users beyond the ids it binds secrets to; replay and
// attempt counting live in the store, whose steps are atomic.
package mfa

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// takes (SHA-1, 6 digits, 30 s), and one step of clock skew either way.
const (
	Period  = 30 * time.Second
	Digits  = 6
	Skew    = 1
	qrPixel = 256
	// secretSize is the HMAC key length: 160 bits, RFC 4226's
	// recommendation for SHA-1.
	secretSize = 20
)

// ErrInvalid matches every error for input that is not what it claims to
// be: a malformed code or token, a sealed secret that does not open.
var ErrInvalid = errors.New("mfa: invalid")

// Enrollment is a new TOTP secret and the two ways to hand it to an
// authenticator app.
type Enrollment struct {
	// Secret is the base32 secret (no padding), for manual entry.
	Secret string
	// URI is the otpauth:// URI (Key Uri Format).
	URI string
	// QRPNG is a PNG of a QR code of URI.
	QRPNG []byte
}

// NewTOTP generates a secret from crypto/rand for account at issuer.
func NewTOTP(issuer, account string) (Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: uint(Period / time.Second),
		SecretSize: secretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: generate TOTP secret: %w", err)
	}
	img, err := key.Image(qrPixel, qrPixel)
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	return Enrollment{Secret: key.Secret(), URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// StepAt is the RFC 6238 time step of t.
func StepAt(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// MatchTOTP looks for the step whose code is code among the steps of at
// and Skew either side, later than lastStep (the step last accepted for
// this secret; codes are accepted once). It returns the matching step, or
// ok false. Each candidate is compared in constant time, and every
// candidate is computed whatever matched.
func MatchTOTP(secret, code string, at time.Time, lastStep int64) (step int64, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	now := StepAt(at)
	for s := now - Skew; s <= now+Skew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(Period/time.Second), 0), totp.ValidateOpts{
			Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// Sealer encrypts TOTP secrets at rest with AES-256-GCM under a key
// derived from the master key (HKDF-SHA-256, its own label, so the secrets
// and the signing keys never share an AEAD key), binding each blob to its
// user as additional data so it cannot be moved to another row.
type Sealer struct {
	aead cipher.AEAD
}

// sealLabel is the HKDF info of the TOTP sealing key.
const sealLabel = "authd totp secret AES-256-GCM v1"

// sealV1 is the format byte of a sealed secret: 0x01 || nonce || ct || tag.
const sealV1 byte = 0x01

// NewSealer derives the sealing key from a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("mfa: master key must be 32 bytes, got %d", len(masterKey))
	}
	key, err := hkdf.Key(sha256.New, masterKey, nil, sealLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("mfa: derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mfa: sealing key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("mfa: sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

func sealAD(userID string) []byte { return []byte("totp\x00" + userID) }

// Seal encrypts secret for userID.
func (s *Sealer) Seal(userID, secret string) []byte {
	return s.aead.Seal([]byte{sealV1}, nil, []byte(secret), sealAD(userID))
}

// Open decrypts a blob Seal made for userID; anything else is ErrInvalid.
func (s *Sealer) Open(userID string, sealed []byte) (string, error) {
	if len(sealed) < 1 || sealed[0] != sealV1 {
		return "", fmt.Errorf("%w: unknown sealed secret format", ErrInvalid)
	}
	plain, err := s.aead.Open(nil, nil, sealed[1:], sealAD(userID))
	if err != nil {
		return "", fmt.Errorf("%w: sealed secret does not open (another master key or user, or altered)", ErrInvalid)
	}
	return string(plain), nil
}

// Recovery codes: 16 characters of Crockford's base32 alphabet in lower
// case (no i, l, o or u), so 80 random bits, shown as four groups of four.
// Stored as SHA-256 digests: 80 random bits leave nothing for a slow hash
// to protect.
const (
	recoveryLetters = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen     = 16
	// RecoveryCodeCount is how many codes a set holds.
	RecoveryCodeCount = 10
)

// NewRecoveryCodes returns n fresh codes for display and their digests
// for the store, in the same order.
func NewRecoveryCodes(n int) (codes []string, digests [][]byte) {
	codes, digests = make([]string, n), make([][]byte, n)
	for i := range n {
		raw := make([]byte, recoveryLen*5/8) // 80 bits
		_, _ = rand.Read(raw)                // crypto/rand.Read never fails on supported platforms
		var b strings.Builder
		var acc uint64
		bits := 0
		for _, c := range raw {
			acc = acc<<8 | uint64(c)
			bits += 8
			for bits >= 5 {
				bits -= 5
				b.WriteByte(recoveryLetters[(acc>>bits)&31])
			}
		}
		plain := b.String()
		codes[i] = plain[0:4] + "-" + plain[4:8] + "-" + plain[8:12] + "-" + plain[12:16]
		digests[i] = recoveryDigest(plain)
	}
	return codes, digests
}

// recoveryTyping maps what a user may type to the code's letters: any
// case, dashes and spaces dropped, and Crockford's look-alikes (o is 0;
// i and l are 1).
var recoveryTyping = strings.NewReplacer("-", "", " ", "", "o", "0", "i", "1", "l", "1")

// RecoveryCodeDigest normalises a code as a user may type it and returns
// its digest; ok is false when it cannot be a recovery code.
func RecoveryCodeDigest(code string) (digest []byte, ok bool) {
	if len(code) > 64 {
		return nil, false
	}
	plain := recoveryTyping.Replace(strings.ToLower(code))
	if len(plain) != recoveryLen || strings.Trim(plain, recoveryLetters) != "" {
		return nil, false
	}
	return recoveryDigest(plain), true
}

func recoveryDigest(plain string) []byte {
	d := sha256.Sum256([]byte("authd recovery code v1\x00" + plain))
	return d[:]
}

// NewChallenge returns a new mfa_token (256 random bits, base64url) and
// its digest, the only form the store keeps.
func NewChallenge() (token string, digest []byte) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(raw)
	d := sha256.Sum256(raw)
	return token, d[:]
}

// ChallengeDigest decodes a presented mfa_token strictly and returns its
// digest; anything that is not one is ErrInvalid.
func ChallengeDigest(token string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%w: malformed mfa_token", ErrInvalid)
	}
	d := sha256.Sum256(raw)
	return d[:], nil
}
