package auth

import (
	"context"
	"errors"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/pkg/store"
)

// Enrollee is who calls an enrolment endpoint: the holder of a user's
// access token (Caller set), or, for a user who must enrol before any
// token is issued to them, of the enrolment mfa_token that
// ErrMFAEnrollmentRequired handed out (EnrollToken set, Caller only
// carrying the Device).
type Enrollee struct {
	Caller
	EnrollToken string
}

// enrollee resolves e to its user, and to the enrolment challenge when it
// came with a token.
func (s *Service) enrollee(ctx context.Context, e Enrollee) (store.User, *store.MFAChallenge, error) {
	switch {
	case e.UserID != "" && e.EnrollToken != "":
		return store.User{}, nil, fail(ErrInvalidRequest, "give a Bearer token or an mfa_token, not both")
	case e.UserID != "":
		u, err := s.Me(ctx, e.UserID)
		return u, nil, err
	case e.EnrollToken == "":
		return store.User{}, nil, fail(ErrInvalidToken, "a Bearer access token, or the mfa_token of mfa_enrollment_required, is required")
	}
	ch, err := s.liveChallenge(ctx, e.EnrollToken, purposeMFAEnroll, e.Device)
	if err != nil {
		return store.User{}, nil, err
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if isNotFound(err) {
		return store.User{}, nil, errBadMFAToken
	}
	if err != nil {
		return store.User{}, nil, err
	}
	if u.Disabled {
		return store.User{}, nil, fail(ErrUserDisabled, "this account is disabled")
	}
	return u, &ch, nil
}

// EnrollTOTP issues a new TOTP secret to the enrollee, pending until
// ConfirmTOTP: a second call replaces a pending secret. A confirmed one
// is ErrConflict (turn it off first). The secret is sealed at rest and
// returned only here.
func (s *Service) EnrollTOTP(ctx context.Context, e Enrollee) (mfa.Enrollment, error) {
	if s.cfg.MFA.Sealer == nil {
		return mfa.Enrollment{}, errMFAOff()
	}
	u, _, err := s.enrollee(ctx, e)
	if err != nil {
		return mfa.Enrollment{}, err
	}
	errOn := fail(ErrConflict, "two-factor authentication is already on; turn it off first")
	if t, err := s.store.TOTP(ctx, u.ID); err == nil && t.Confirmed() {
		return mfa.Enrollment{}, errOn
	} else if err != nil && !isNotFound(err) {
		return mfa.Enrollment{}, err
	}
	enrol, err := mfa.NewTOTP(s.cfg.MFA.Issuer, u.Email)
	if err != nil {
		return mfa.Enrollment{}, err
	}
	err = s.store.SetPendingTOTP(ctx, u.ID, s.cfg.MFA.Sealer.Seal(u.ID, enrol.Secret), s.cfg.Clock())
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return mfa.Enrollment{}, errOn // confirmed meanwhile
	case isNotFound(err):
		return mfa.Enrollment{}, fail(ErrInvalidToken, "the token's user no longer exists")
	case err != nil:
		return mfa.Enrollment{}, err
	}
	ev := deviceEvent(EventMFAEnroll, OutcomeSuccess, e.Device)
	ev.UserID, ev.SessionID = u.ID, e.SessionID
	s.record(ctx, ev)
	return enrol, nil
}

// ConfirmTOTP activates the enrollee's pending TOTP with a first code and
// returns a fresh set of recovery codes, shown once (only digests are
// kept). Every other session of the user ends (with an enrolment token
// there is no current one, so all do), and the owner is mailed a notice.
// An enrolment token is spent by a right code and counts wrong ones.
func (s *Service) ConfirmTOTP(ctx context.Context, e Enrollee, code string) ([]string, error) {
	if code == "" {
		return nil, fail(ErrInvalidRequest, "code is required")
	}
	if s.cfg.MFA.Sealer == nil {
		return nil, errMFAOff()
	}
	u, ch, err := s.enrollee(ctx, e)
	if err != nil {
		return nil, err
	}
	ev := deviceEvent(EventMFAConfirm, OutcomeFailure, e.Device)
	ev.UserID, ev.SessionID = u.ID, e.SessionID
	backoffKey, err := s.mfaThrottle(ctx, u.Email, e.Device.IP)
	if err != nil {
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return nil, err
	}
	t, err := s.store.TOTP(ctx, u.ID)
	switch {
	case isNotFound(err):
		return nil, fail(ErrInvalidRequest, "no pending TOTP secret: POST /v1/mfa/totp first")
	case err != nil:
		return nil, err
	case t.Confirmed():
		return nil, fail(ErrConflict, "two-factor authentication is already on")
	}
	secret, err := s.cfg.MFA.Sealer.Open(u.ID, t.SealedSecret)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock()
	step, ok := mfa.MatchTOTP(secret, code, now, 0)
	if !ok {
		if ch != nil {
			_, _ = s.store.FailMFAChallenge(ctx, ch.Digest, purposeMFAEnroll, MaxMFAFailures, now)
		}
		s.loginFailed(ctx, backoffKey)
		ev.Detail = detailInvalidCode
		s.record(ctx, ev)
		return nil, errInvalidCode
	}
	if ch != nil {
		if _, err := s.store.ConsumeMFAChallenge(ctx, ch.Digest, purposeMFAEnroll, MaxMFAFailures, now); isNotFound(err) {
			return nil, errBadMFAToken
		} else if err != nil {
			return nil, err
		}
	}
	codes, digests := mfa.NewRecoveryCodes(mfa.RecoveryCodeCount)
	if err := s.store.ConfirmTOTP(ctx, u.ID, step, digests, now); isNotFound(err) {
		return nil, fail(ErrConflict, "the pending secret changed meanwhile; enrol again")
	} else if err != nil {
		return nil, err
	}
	s.loginSucceeded(ctx, backoffKey)
	ev.Outcome = OutcomeSuccess
	s.record(ctx, ev)
	s.mailMFA(u, true, now)
	if err := s.endOtherSessions(ctx, u.ID, e.SessionID, now); err != nil {
		return nil, failWith(ErrUnavailable, "two-factor authentication is on but other sessions could not all be ended; log out with scope=others", err)
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the caller's recovery codes with a
// fresh set, given a current TOTP code; the old set stops working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, c Caller, code string) ([]string, error) {
	u, _, ev, backoffKey, err := s.callerSecondFactor(ctx, c, code, EventMFARecoveryCodes)
	if err != nil {
		return nil, err
	}
	codes, digests := mfa.NewRecoveryCodes(mfa.RecoveryCodeCount)
	if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, digests, s.cfg.Clock()); err != nil {
		return nil, err
	}
	s.loginSucceeded(ctx, backoffKey)
	ev.Outcome = OutcomeSuccess
	s.record(ctx, ev)
	return codes, nil
}

// DisableTOTP turns the caller's second factor off, given the password and
// a TOTP code or a recovery code (exactly one): the secret and the
// recovery codes are deleted, every other session ends and the owner is
// mailed a notice. The password is a guess like ChangePassword's (backoff,
// the change budget, one bcrypt in flight per user).
func (s *Service) DisableTOTP(ctx context.Context, c Caller, pw, code, recovery string) error {
	if pw == "" {
		return fail(ErrInvalidRequest, "password is required")
	}
	if err := oneCode(code, recovery); err != nil {
		return err
	}
	u, err := s.Me(ctx, c.UserID)
	if err != nil {
		return err
	}
	if t, err := s.store.TOTP(ctx, u.ID); isNotFound(err) || (err == nil && !t.Confirmed()) {
		return fail(ErrNotFound, "two-factor authentication is not on")
	} else if err != nil {
		return err
	}
	ev := deviceEvent(EventMFADisabled, OutcomeFailure, c.Device)
	ev.UserID, ev.SessionID = u.ID, c.SessionID
	backoffKey, err := s.checkCallerPassword(admission.WithOwner(ctx, "user:"+u.ID), u, c, pw, ev, "the password is incorrect")
	if err != nil {
		return err
	}
	if _, err := s.verifySecondFactor(ctx, u.ID, code, recovery, ev, backoffKey); err != nil {
		return err
	}
	if err := s.store.DeleteTOTP(ctx, u.ID); err != nil && !isNotFound(err) {
		return err
	}
	s.loginSucceeded(ctx, backoffKey)
	now := s.cfg.Clock()
	ev.Outcome = OutcomeSuccess
	s.record(ctx, ev)
	s.mailMFA(u, false, now)
	if err := s.endOtherSessions(ctx, u.ID, c.SessionID, now); err != nil {
		return failWith(ErrUnavailable, "two-factor authentication is off but other sessions could not all be ended; log out with scope=others", err)
	}
	return nil
}

// ResetMFA removes a user's second factor (admin API): the TOTP and the
// recovery codes are deleted, every session of the user ends (the user
// may have lost the device, and someone else may hold it) and the owner is
// mailed a notice. A user without one is reset harmlessly.
func (s *Service) ResetMFA(ctx context.Context, actor Actor, userID string) error {
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTOTP(ctx, u.ID); err != nil && !isNotFound(err) {
		return err
	}
	now := s.cfg.Clock()
	s.record(ctx, actorEvent(EventMFAReset, actor, u.ID, ""))
	s.mailMFA(u, false, now)
	if err := s.endAllSessions(ctx, u.ID, "", now); err != nil {
		return failWith(ErrUnavailable, "the second factor is reset but the user's sessions could not all be ended; retry", err)
	}
	return nil
}
