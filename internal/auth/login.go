package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/pkg/store"
)

// errBadCredentials is the one answer to a wrong email or password.
var errBadCredentials = fail(ErrInvalidCredentials, "the email or password is incorrect")

// Login checks an email and password and starts a session.
//
// An unknown email and a wrong password take the same time and return the
// same error: the unknown case compares against a dummy hash, and both
// count as a failure for the account's backoff. Before any of that, an
// account over its limit, or in a backoff after failures from this
// client's network, is answered ErrRateLimited without bcrypt or a store
// read. Every bcrypt takes a slot of the gate; a full gate is
// ErrUnavailable with a Retry-After, whether or not the account exists.
//
// The session is created against the credential version read with the
// hash that matched: should a password reset or change, a disable or a
// sign-out everywhere complete while the password is being checked, the
// store refuses the session and the login answers ErrInvalidCredentials,
// as it would had it started a moment later. (Not a retryable error: a
// retry with the same password fails or, after a sign-out everywhere,
// simply succeeds.)
//
// A user with a confirmed TOTP gets ErrMFARequired instead of a session,
// and one who must have a second factor and has none
// ErrMFAEnrollmentRequired (see secondFactor); both only once the password
// matched.
func (s *Service) Login(ctx context.Context, email, pw string, device Device) (*Tokens, error) {
	p, err := s.authenticatePassword(ctx, email, pw, device)
	if err != nil {
		return nil, err
	}
	if err := s.secondFactor(ctx, p, device); err != nil {
		// A pending second factor leaves the backoff as it is: wrong
		// codes keep adding to it across logins, and only a completed
		// second step clears it.
		return nil, err
	}
	s.loginSucceeded(ctx, p.backoffKey)
	return s.startSession(ctx, p, device)
}

// authenticatePassword is Login's first step: the user whose email and
// password these are, allowed to sign in. Every failure is recorded as a
// failed login; success records nothing, since no session exists yet, and
// leaves the backoff to the caller (the Principal's backoffKey).
func (s *Service) authenticatePassword(ctx context.Context, email, pw string, device Device) (Principal, error) {
	ev := deviceEvent(EventLogin, OutcomeFailure, device)
	email, err := NormalizeEmail(email)
	if err != nil {
		if err := s.hasher.CompareDummy(ctx, pw); err != nil {
			return Principal{}, hashFailed(err)
		}
		return Principal{}, errBadCredentials
	}
	backoffKey := loginBackoffKey(email, device.IP)
	if err := s.throttleLogin(ctx, email, backoffKey); err != nil {
		// No user id: the refusal comes before the lookup, so that it
		// costs no database read either.
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return Principal{}, err
	}
	u, err := s.userByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.hasher.CompareDummy(ctx, pw); err != nil {
			return Principal{}, hashFailed(err)
		}
		s.loginFailed(ctx, backoffKey)
		ev.Detail = detailInvalidCredentials
		s.record(ctx, ev)
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	match, rehash, err := s.hasher.Compare(ctx, u.PasswordHash, pw)
	if err != nil {
		return Principal{}, hashFailed(err)
	}
	ev.UserID = u.ID
	if !match {
		s.loginFailed(ctx, backoffKey)
		ev.Detail = detailInvalidCredentials
		s.record(ctx, ev)
		return Principal{}, errBadCredentials
	}
	if u.Disabled {
		ev.Detail = detailUserDisabled
		s.record(ctx, ev)
		return Principal{}, fail(ErrUserDisabled, "this account is disabled")
	}
	// Only after the password matched: the answer reveals nothing to
	// someone who does not know it.
	if s.cfg.RequireVerifiedEmail && !u.EmailVerified {
		ev.Detail = detailEmailNotVerified
		s.record(ctx, ev)
		return Principal{}, fail(ErrEmailNotVerified, "the email address is not verified: follow the link mailed at registration, or reset the password, which verifies it too")
	}
	if rehash {
		s.upgradeHash(ctx, u.ID, u.CredentialVersion, pw)
	}
	return Principal{User: u, AMR: []string{amrPassword}, backoffKey: backoffKey}, nil
}

// upgradeHash re-hashes a password whose stored hash has a lower cost than
// configured. Failure is logged, not returned: the login itself succeeded.
// A full bcrypt gate skips it quietly: the next login upgrades instead.
// It applies only at version, the credential version the password was
// verified at: a rehash of the old password must not undo a reset that
// completed meanwhile.
func (s *Service) upgradeHash(ctx context.Context, userID string, version int64, pw string) {
	// Length rules only: the rehash keeps the password the user already
	// has, so screening it would only keep the old hash.
	policy := s.cfg.PasswordPolicy
	policy.Breached = nil
	normalized, err := policy.Check(pw)
	if err != nil {
		// An imported password that fails today's policy keeps its hash.
		return
	}
	hash, err := s.hasher.Hash(ctx, normalized)
	if errors.Is(err, admission.ErrOverloaded) {
		return
	}
	if err == nil {
		err = s.store.RehashPassword(ctx, userID, hash, version)
	}
	if errors.Is(err, store.ErrCredentialsChanged) {
		return // the password changed meanwhile; the new hash stands
	}
	if err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "password rehash failed", slog.String("user_id", userID), slog.Any("error", err))
	}
}
