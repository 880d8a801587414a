package auth

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/store"
	"github.com/google/uuid"
)

// maxEmailLength is RFC 5321's limit on a forward path.
const maxEmailLength = 254

// NormalizeEmail trims and lower-cases an email address and checks that it
// is a plain addr-spec (no display name, no comments).
func NormalizeEmail(raw string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", fail(ErrInvalidRequest, "email is required")
	}
	if len(email) > maxEmailLength {
		return "", fail(ErrInvalidRequest, "email is too long")
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || addr.Name != "" || at < 1 || at > 64 ||
		!strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n<>") {
		return "", fail(ErrInvalidRequest, "email is not a valid address")
	}
	return email, nil
}

// Register creates an account.
func (s *Service) Register(ctx context.Context, email, pw string) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	normalized, err := s.cfg.PasswordPolicy.Check(pw)
	if weak := (*password.WeakError)(nil); errors.As(err, &weak) {
		return store.User{}, fail(ErrWeakPassword, weak.Reason)
	} else if err != nil {
		return store.User{}, err
	}
	hash, err := s.hasher.Hash(normalized)
	if err != nil {
		return store.User{}, err
	}
	now := s.cfg.Clock()
	u, err := s.store.CreateUser(ctx, store.User{
		ID: uuid.NewString(), Email: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.User{}, fail(ErrEmailTaken, "an account with this email already exists")
	}
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// Me returns the user an access token was issued to.
func (s *Service) Me(ctx context.Context, userID string) (store.User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fail(ErrInvalidToken, "the token's user no longer exists")
	}
	return u, err
}
