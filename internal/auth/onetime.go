package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Purposes of one-time tokens. The purpose is stored with each token and
// is part of every lookup, so a token mailed for one use is unknown to
// every other: a reset link cannot verify an email, nor the reverse.
const (
	purposeVerifyEmail   = "verify_email"
	purposeResetPassword = "reset_password"
)

// oneTimeTokenBytes is the entropy of a token: 256 bits from crypto/rand.
const oneTimeTokenBytes = 32

// oneTimeTokenEncoding is strict so that each token has one spelling.
var oneTimeTokenEncoding = base64.RawURLEncoding.Strict()

// newOneTimeToken returns a fresh token (base64url, 43 characters) and
// the digest the store keeps.
//
// The digest is a plain SHA-256: with 256 random bits there is nothing for
// a slow or keyed hash to protect (no dictionary to try), and a fast one
// keeps the lookup cheap for every guess.
func newOneTimeToken() (raw string, hash []byte) {
	b := make([]byte, oneTimeTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	raw = oneTimeTokenEncoding.EncodeToString(b)
	return raw, digest(raw)
}

func digest(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// hashOneTimeToken returns the digest of a presented token, or false when
// it cannot be one of ours, so that garbage never reaches the store.
func hashOneTimeToken(raw string) ([]byte, bool) {
	if len(raw) != oneTimeTokenEncoding.EncodedLen(oneTimeTokenBytes) {
		return nil, false
	}
	if _, err := oneTimeTokenEncoding.DecodeString(raw); err != nil {
		return nil, false
	}
	return digest(raw), true
}

// issueToken stores a new token of purpose for u, valid for ttl from now,
// replacing u's earlier ones of that purpose, and returns it raw.
func (s *Service) issueToken(ctx context.Context, u store.User, purpose string, ttl time.Duration) (string, error) {
	raw, hash := newOneTimeToken()
	now := s.cfg.Clock()
	err := s.store.CreateOneTimeToken(ctx, store.OneTimeToken{
		Hash: hash, Purpose: purpose, UserID: u.ID, Email: u.Email, CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return "", fmt.Errorf("auth: issue %s token: %w", purpose, err)
	}
	return raw, nil
}

// errBadOneTimeToken is the one answer to every bad token: malformed,
// unknown, used, expired or of another purpose look the same.
func errBadOneTimeToken() error {
	return fail(ErrInvalidOneTimeToken, "the token is invalid, expired or already used")
}

// consumeToken spends a presented token of purpose, atomically, and
// returns what it was issued for.
func (s *Service) consumeToken(ctx context.Context, raw, purpose string) (store.OneTimeToken, error) {
	if raw == "" {
		return store.OneTimeToken{}, fail(ErrInvalidRequest, "token is required")
	}
	hash, ok := hashOneTimeToken(raw)
	if !ok {
		return store.OneTimeToken{}, errBadOneTimeToken()
	}
	tok, err := s.store.ConsumeOneTimeToken(ctx, hash, purpose, s.cfg.Clock())
	if isNotFound(err) {
		return store.OneTimeToken{}, errBadOneTimeToken()
	}
	return tok, err
}
