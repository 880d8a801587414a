package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authd/authd/pkg/store"
)

// Login checks an email and password and starts a session.
//
// An unknown email and a wrong password take the same time and return the
// same error: the unknown case compares against a dummy hash.
func (s *Service) Login(ctx context.Context, email, pw string, client Client) (*Tokens, error) {
	badCredentials := fail(ErrInvalidCredentials, "the email or password is incorrect")
	email, err := NormalizeEmail(email)
	if err != nil {
		s.hasher.CompareDummy(pw)
		return nil, badCredentials
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.CompareDummy(pw)
		return nil, badCredentials
	}
	if err != nil {
		return nil, err
	}
	match, rehash := s.hasher.Compare(u.PasswordHash, pw)
	if !match {
		return nil, badCredentials
	}
	if u.Disabled {
		return nil, fail(ErrUserDisabled, "this account is disabled")
	}
	if rehash {
		s.upgradeHash(ctx, u.ID, pw)
	}
	now := s.cfg.Clock()
	sess, err := s.store.CreateSession(ctx, store.NewSession{
		ID: newID(), UserID: u.ID, ClientID: s.cfg.ClientID,
		UserAgent: client.UserAgent, IP: client.IP,
		RefreshJTI: newID(), RefreshIssuedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return nil, err
	}
	return s.mint(u, sess, now)
}

// upgradeHash re-hashes a password whose stored hash has a lower cost than
// configured. Failure is logged, not returned: the login itself succeeded.
func (s *Service) upgradeHash(ctx context.Context, userID, pw string) {
	normalized, err := s.cfg.PasswordPolicy.Check(pw)
	if err != nil {
		// An imported password that fails today's policy keeps its hash.
		return
	}
	hash, err := s.hasher.Hash(normalized)
	if err == nil {
		err = s.store.UpdatePasswordHash(ctx, userID, hash)
	}
	if err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "password rehash failed", slog.String("user_id", userID), slog.Any("error", err))
	}
}
