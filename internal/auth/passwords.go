package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/pkg/store"
)

// ForgotPassword mails a password reset link to the account of email, if
// there is one and it is not disabled. It answers the same, in the same
// time, whether or not there is: the request only queues a job, and the
// mail worker looks the account up, issues the token and sends (or skips).
// A malformed email is ErrInvalidRequest: that says nothing about
// accounts.
//
// Each address has a limit of its own (Limits.ForgotAccount), counted the
// same way whether or not it has an account, so nobody can bury a mailbox
// in reset mail.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.allowAccount(ctx, keyForgotAccount, email, s.cfg.Limits.ForgotAccount); err != nil {
		return err
	}
	s.mailReset(email)
	return nil
}

// ResetPassword sets a new password with a reset token, then ends every
// session of the user (store, then the denylist: every sid and a cutoff,
// as logout scope=global) and mails a notice. The new password is checked
// before the token is spent, so a weak one does not waste the link.
//
// Completing a reset also marks the email verified: the link reached the
// mailbox, which proves the address as a verification link does. It is
// also how a user who cannot log in for want of verification
// (RequireVerifiedEmail) and lost that mail gets in.
//
// The new password is hashed before the token is spent: should the bcrypt
// gate be full, the answer is 503 and the link still works. A malformed
// token is refused before that, so garbage costs no bcrypt. A completed
// reset also clears the login backoff of the account from client's
// network: the owner, who just proved it, can log in at once.
func (s *Service) ResetPassword(ctx context.Context, token, pw string, device Device) error {
	if token == "" || pw == "" {
		return fail(ErrInvalidRequest, "token and password are required")
	}
	normalized, err := s.checkPassword(pw)
	if err != nil {
		return err
	}
	if _, ok := hashOneTimeToken(token); !ok {
		return errBadOneTimeToken()
	}
	hash, err := s.hasher.Hash(ctx, normalized)
	if err != nil {
		return hashFailed(err)
	}
	tok, err := s.consumeToken(ctx, token, purposeResetPassword)
	if err != nil {
		return err
	}
	if err := s.store.UpdatePasswordHash(ctx, tok.UserID, hash); isNotFound(err) {
		return errBadOneTimeToken()
	} else if err != nil {
		return err
	}
	if err := s.store.SetEmailVerified(ctx, tok.UserID, tok.Email); err != nil && !isNotFound(err) {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "marking the email verified after a reset failed",
			slog.String("user_id", tok.UserID), slog.Any("error", err))
	}
	now := s.cfg.Clock()
	s.loginSucceeded(ctx, loginBackoffKey(tok.Email, device.IP))
	ev := deviceEvent(EventPasswordReset, OutcomeSuccess, device)
	ev.UserID = tok.UserID
	s.record(ctx, ev)
	s.mailPasswordChanged(tok.UserID, tok.Email, now)
	if err := s.endAllSessions(ctx, tok.UserID, "", now); err != nil {
		// The token is spent and the password changed; only the sign-out
		// is missing. Say so rather than claim it.
		return failWith(ErrUnavailable, "the password was changed but other sessions could not all be ended; log in and log out with scope=global", err)
	}
	return nil
}

// ChangePassword replaces the caller's password after checking the
// current one, ends every other session (as logout scope=others) and
// mails a notice. The calling session stays: the store carries it to the
// new credential version in the same transaction as the new hash. Should
// the password have changed since it was checked (a reset, another
// change), nothing is written and the answer is ErrInvalidCredentials.
//
// The current password is a guess like a login's: while the account's
// login backoff from the caller's network lasts, or its change budget
// (Limits.ChangeAccount) is spent, the answer is ErrRateLimited without
// bcrypt; a wrong one counts in the login backoff, a right one clears it.
// The caller's bcrypt runs as its own owner in the gate, so that one user
// has one in flight at a time (another at once is ErrRateLimited) and
// cannot crowd everybody else's logins out of the queue.
func (s *Service) ChangePassword(ctx context.Context, c Caller, current, next string) error {
	if current == "" || next == "" {
		return fail(ErrInvalidRequest, "current_password and new_password are required")
	}
	u, err := s.Me(ctx, c.UserID)
	if err != nil {
		return err
	}
	ev := deviceEvent(EventPasswordChange, OutcomeFailure, c.Device)
	ev.UserID, ev.SessionID = u.ID, c.SessionID
	ctx = admission.WithOwner(ctx, "user:"+u.ID)
	backoffKey, err := s.checkCallerPassword(ctx, u, c, current, ev, "the current password is incorrect")
	if err != nil {
		return err
	}
	s.loginSucceeded(ctx, backoffKey)
	normalized, err := s.checkPassword(next)
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, normalized)
	if err != nil {
		return hashFailed(err)
	}
	err = s.store.ChangePasswordHash(ctx, store.PasswordChange{
		UserID: u.ID, Hash: hash, Version: u.CredentialVersion, KeepSessionID: c.SessionID,
	})
	if errors.Is(err, store.ErrCredentialsChanged) {
		ev.Detail = detailCredentialsChanged
		s.record(ctx, ev)
		return fail(ErrInvalidCredentials, "the current password is incorrect")
	}
	if err != nil {
		return err
	}
	ev.Outcome = OutcomeSuccess
	s.record(ctx, ev)
	now := s.cfg.Clock()
	s.mailPasswordChanged(u.ID, u.Email, now)
	if err := s.endOtherSessions(ctx, u.ID, c.SessionID, now); err != nil {
		return failWith(ErrUnavailable, "the password was changed but other sessions could not all be ended; log out with scope=others", err)
	}
	return nil
}

// checkCallerPassword checks a signed-in caller's password as a guess like
// a login's: behind the account's login backoff and change budget (429
// without bcrypt), a mismatch counted in the backoff and recorded as ev.
// wrong is the description of a mismatch. It returns the backoff key for the caller to clear once the whole
// action succeeds. ctx should carry the caller as the gate's owner.
func (s *Service) checkCallerPassword(ctx context.Context, u store.User, c Caller, pw string, ev Event, wrong string) (string, error) {
	backoffKey := loginBackoffKey(u.Email, c.Device.IP)
	if err := s.throttle(ctx, backoffKey, keyChangeAccount, u.Email, s.cfg.Limits.ChangeAccount); err != nil {
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return "", err
	}
	match, _, err := s.hasher.Compare(ctx, u.PasswordHash, pw)
	if err != nil {
		return "", hashFailed(err)
	}
	if !match {
		s.loginFailed(ctx, backoffKey)
		ev.Detail = detailInvalidCredentials
		s.record(ctx, ev)
		return "", fail(ErrInvalidCredentials, wrong)
	}
	return backoffKey, nil
}
