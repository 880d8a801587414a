package auth

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/store"
	"github.com/google/uuid"
)

// Register creates an account and mails its verification link.
//
// A taken email is 409 email_taken, unless RequireVerifiedEmail is set:
// then the answer is the same as for a new account (a fresh random id, the
// email, unverified, created now) and the owner is mailed a notice
// instead, so that registration cannot tell which emails have accounts
// (ASVS 5.0 6.3.8). The password is hashed either way, before the insert
// is tried, so both paths take the same time.
//
// The password is screened (length, breached list) before any bcrypt, so a
// refused one costs microseconds; the hash takes a slot of the bcrypt gate.
func (s *Service) Register(ctx context.Context, email, pw string, device Device) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	normalized, err := s.checkPassword(pw)
	if err != nil {
		return store.User{}, err
	}
	hash, err := s.hasher.Hash(ctx, normalized)
	if err != nil {
		return store.User{}, hashFailed(err)
	}
	ev := deviceEvent(EventRegister, OutcomeSuccess, device)
	// Microseconds in UTC, as the store keeps them: the stand-in answer of
	// the taken case must not differ in precision from a real one.
	now := s.cfg.Clock().UTC().Truncate(time.Microsecond)
	var u store.User
	if err = s.takenByOldSpelling(ctx, email); err == nil {
		u, err = s.store.CreateUser(ctx, store.User{
			ID: uuid.NewString(), Email: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
		})
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		ev.Outcome, ev.Detail = OutcomeFailure, detailEmailTaken
		s.record(ctx, ev)
		if !s.cfg.RequireVerifiedEmail {
			return store.User{}, fail(ErrEmailTaken, "an account with this email already exists")
		}
		s.mailRegistrationNotice(email)
		return store.User{ID: uuid.NewString(), Email: email, Roles: []string{}, CreatedAt: now, UpdatedAt: now}, nil
	}
	if err != nil {
		return store.User{}, err
	}
	ev.UserID = u.ID
	s.record(ctx, ev)
	s.mailVerification(u)
	return u, nil
}

// checkPassword applies the password policy (length, and the breached
// list when configured) to a new password and returns it normalised, or
// ErrWeakPassword saying why not.
func (s *Service) checkPassword(pw string) (string, error) {
	normalized, err := s.cfg.PasswordPolicy.Check(pw)
	if weak := (*password.WeakError)(nil); errors.As(err, &weak) {
		return "", fail(ErrWeakPassword, weak.Reason)
	}
	return normalized, err
}

// Me returns the user an access token was issued to.
func (s *Service) Me(ctx context.Context, userID string) (store.User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fail(ErrInvalidToken, "the token's user no longer exists")
	}
	return u, err
}
