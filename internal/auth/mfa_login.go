package auth

import (
	"context"
	"errors"
	"slices"
)

// secondFactor is the step between a password and a session: nil lets the
// session start; a user with a confirmed TOTP gets ErrMFARequired with a
// login mfa_token, and one who must have a second factor (a role of
// MFA.RequiredRoles) and has none gets ErrMFAEnrollmentRequired with an
// enrolment token. It runs only after the password matched, so someone
// without the password learns nothing of the account's second factor.
func (s *Service) secondFactor(ctx context.Context, p Principal, device Device) error {
	u := p.User
	t, err := s.store.TOTP(ctx, u.ID)
	if err != nil && !isNotFound(err) {
		return err
	}
	ev := deviceEvent(EventLogin, OutcomeFailure, device)
	ev.UserID = u.ID
	switch {
	case err == nil && t.Confirmed():
		info, err := s.issueChallenge(ctx, u, purposeMFALogin, p.AMR, device)
		if err != nil {
			return err
		}
		ev.Detail = detailMFARequired
		s.record(ctx, ev)
		return &Error{Kind: ErrMFARequired, Description: "a second factor is required: post the mfa_token with a code to /v1/login/mfa", MFA: info}
	case s.requiresMFA(u):
		info, err := s.issueChallenge(ctx, u, purposeMFAEnroll, p.AMR, device)
		if err != nil {
			return err
		}
		ev.Detail = ErrMFAEnrollmentRequired.Error()
		s.record(ctx, ev)
		return &Error{Kind: ErrMFAEnrollmentRequired, Description: "this account must enrol a second factor: post the mfa_token to /v1/mfa/totp and /v1/mfa/totp/confirm, then log in again", MFA: info}
	}
	return nil
}

// LoginMFA is the second step of a login: an mfa_token of ErrMFARequired
// and either a TOTP code or a recovery code (exactly one). It starts the
// session the password step did not, with amr ["pwd","otp"] or
// ["pwd","rcode"]. No bcrypt runs: the password was checked by the first
// step.
//
// The token is single use, bound to the client's network and to the
// user's credential version then (a password reset meanwhile leaves no
// session), and dies after MaxMFAFailures wrong codes. A wrong code counts
// in the account's login backoff from the client's network; the backoff
// and the account's code budget are asked before the code is checked.
func (s *Service) LoginMFA(ctx context.Context, mfaToken, code, recovery string, device Device) (*Tokens, error) {
	if mfaToken == "" {
		return nil, fail(ErrInvalidRequest, "mfa_token is required")
	}
	if err := oneCode(code, recovery); err != nil {
		return nil, err
	}
	ch, err := s.liveChallenge(ctx, mfaToken, purposeMFALogin, device)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if isNotFound(err) {
		return nil, errBadMFAToken
	}
	if err != nil {
		return nil, err
	}
	ev := deviceEvent(EventMFAVerify, OutcomeFailure, device)
	ev.UserID = u.ID
	backoffKey, err := s.mfaThrottle(ctx, u.Email, device.IP)
	if err != nil {
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return nil, err
	}
	method, err := s.verifySecondFactor(ctx, u.ID, code, recovery, ev, backoffKey)
	if errors.Is(err, ErrInvalidCode) {
		_, _ = s.store.FailMFAChallenge(ctx, ch.Digest, purposeMFALogin, MaxMFAFailures, s.cfg.Clock())
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.store.ConsumeMFAChallenge(ctx, ch.Digest, purposeMFALogin, MaxMFAFailures, s.cfg.Clock()); isNotFound(err) {
		return nil, errBadMFAToken // spent by a concurrent second step
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		ev.Detail = detailUserDisabled
		s.record(ctx, ev)
		return nil, fail(ErrUserDisabled, "this account is disabled")
	}
	s.loginSucceeded(ctx, backoffKey)
	ev.Outcome, ev.Detail = OutcomeSuccess, "login"
	s.record(ctx, ev)
	// The version the password was checked at: a reset, disable or
	// sign-out everywhere since then leaves no session.
	u.CredentialVersion = ch.CredentialVersion
	return s.startSession(ctx, Principal{User: u, AMR: withMethod(ch.AMR, method)}, device)
}

// withMethod is amr with method added once; empty amr is a password's.
func withMethod(amr []string, method string) []string {
	out := slices.Clone(amr)
	if len(out) == 0 {
		out = []string{amrPassword}
	}
	if !slices.Contains(out, method) {
		out = append(out, method)
	}
	return out
}

// StepUp re-authenticates the caller with a TOTP code: the same session
// records amr with "otp" and auth_time now (store.StepUpSession), and a
// new token pair is minted for it. The refresh token is re-minted from the
// session row, so the one the client holds stays valid; later refreshes
// carry the stepped-up amr and auth_time.
func (s *Service) StepUp(ctx context.Context, c Caller, code string) (*Tokens, error) {
	u, method, ev, backoffKey, err := s.callerSecondFactor(ctx, c, code, EventMFAVerify)
	if err != nil {
		return nil, err
	}
	s.loginSucceeded(ctx, backoffKey)
	now := s.cfg.Clock()
	sess, err := s.store.StepUpSession(ctx, u.ID, c.SessionID, withMethod(c.AMR, method), now)
	if isNotFound(err) {
		return nil, fail(ErrInvalidToken, "the session has ended")
	}
	if err != nil {
		return nil, err
	}
	ev.Outcome, ev.Detail = OutcomeSuccess, "step_up"
	s.record(ctx, ev)
	return s.mintSession(u, sess, now)
}
