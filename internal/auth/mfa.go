package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/pkg/store"
)

// MFAConfig configures the second factor (RFC 6238 TOTP with recovery
// codes).
type MFAConfig struct {
	// Sealer encrypts TOTP secrets at rest; nil refuses enrolment
	// (ErrUnavailable), and a login of a user with a TOTP fails.
	Sealer *mfa.Sealer
	// Issuer names the service in authenticator apps (AUTHD_MFA_ISSUER);
	// empty: the host name of Config.Issuer.
	Issuer string
	// TokenTTL is the lifetime of an mfa_token (AUTHD_MFA_TOKEN_TTL);
	// zero means DefaultMFATokenTTL.
	TokenTTL time.Duration
	// RequiredRoles are roles whose holders obtain no tokens without a
	// second factor (AUTHD_MFA_REQUIRED_ROLES): a password login of one
	// without a confirmed TOTP is ErrMFAEnrollmentRequired.
	RequiredRoles []string
}

// DefaultMFATokenTTL is the lifetime of an mfa_token of a Config that
// sets none.
const DefaultMFATokenTTL = 5 * time.Minute

// MaxMFAFailures is how many wrong second steps an mfa_token survives:
// the next attempt, right or wrong, finds it dead.
const MaxMFAFailures = 5

// Purposes of mfa_tokens (store.MFAChallenge.Purpose): the second step of
// a login, or the enrolment of a user who must have a second factor.
const (
	purposeMFALogin  = "login"
	purposeMFAEnroll = "enroll"
)

// RFC 8176 methods beyond "pwd". RFC 8176 has no value for a recovery
// code; "rcode" is authd's.
const (
	amrOTP          = "otp"
	amrRecoveryCode = "rcode"
)

// mfaMethods are the second steps an mfa_token of a login accepts.
var mfaMethods = []string{"totp", "recovery_code"}

// keyMFAAccount is the limiter prefix of second-factor code checks per
// account (login step, step-up, confirm, disable, new recovery codes):
// they share Limits.LoginAccount's budget shape under their own key.
const keyMFAAccount = "acct:mfa:"

func (c *Config) mfaDefaults() error {
	if c.MFA.Issuer == "" {
		// The host name without the port: the otpauth label is
		// issuer:account, and apps split it at the first colon.
		if u, err := url.Parse(c.Issuer); err == nil && u.Hostname() != "" {
			c.MFA.Issuer = u.Hostname()
		} else {
			c.MFA.Issuer = "authd"
		}
	}
	if c.MFA.TokenTTL <= 0 {
		c.MFA.TokenTTL = DefaultMFATokenTTL
	}
	for _, r := range c.MFA.RequiredRoles {
		if err := store.ValidateRole(r); err != nil {
			return fmt.Errorf("auth: MFA required role %q: %w", r, err)
		}
	}
	return nil
}

// errInvalidCode is the one answer to a wrong, malformed or replayed code.
var errInvalidCode = fail(ErrInvalidCode, "the code is incorrect or was already used")

// errBadMFAToken is the one answer to an mfa_token that is malformed,
// unknown, used, expired, dead of failures or from another network.
var errBadMFAToken = fail(ErrInvalidOneTimeToken, "the mfa_token is invalid or expired; log in again")

func errMFAOff() error {
	return fail(ErrUnavailable, "two-factor authentication is not configured on this server")
}

// MFAStatus is the second-factor state GET /v1/me shows.
type MFAStatus struct {
	// TOTP reports a confirmed TOTP.
	TOTP bool
	// RecoveryCodesLeft counts unused recovery codes.
	RecoveryCodesLeft int
}

// MFAStatus returns userID's second-factor state.
func (s *Service) MFAStatus(ctx context.Context, userID string) (MFAStatus, error) {
	t, err := s.store.TOTP(ctx, userID)
	if isNotFound(err) || (err == nil && !t.Confirmed()) {
		return MFAStatus{}, nil
	}
	if err != nil {
		return MFAStatus{}, err
	}
	n, err := s.store.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return MFAStatus{}, err
	}
	return MFAStatus{TOTP: true, RecoveryCodesLeft: n}, nil
}

// requiresMFA reports whether u holds a role of MFA.RequiredRoles.
func (s *Service) requiresMFA(u store.User) bool {
	for _, r := range s.cfg.MFA.RequiredRoles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// hasSecondFactor reports whether amr holds a second factor.
func hasSecondFactor(amr []string) bool {
	return slices.Contains(amr, amrOTP) || slices.Contains(amr, amrRecoveryCode)
}

// mfaThrottle answers ErrRateLimited while the login backoff of email from
// ip's network lasts or the account's code budget is spent.
func (s *Service) mfaThrottle(ctx context.Context, email, ip string) (backoffKey string, err error) {
	backoffKey = loginBackoffKey(email, ip)
	return backoffKey, s.throttle(ctx, backoffKey, keyMFAAccount, email, s.cfg.Limits.LoginAccount)
}

// totpSecret opens userID's confirmed TOTP; none (or a pending one) is
// ErrNotFound.
func (s *Service) totpSecret(ctx context.Context, userID string) (store.TOTP, string, error) {
	t, err := s.store.TOTP(ctx, userID)
	if err != nil {
		return store.TOTP{}, "", err
	}
	if !t.Confirmed() {
		return store.TOTP{}, "", store.ErrNotFound
	}
	if s.cfg.MFA.Sealer == nil {
		return store.TOTP{}, "", errMFAOff()
	}
	secret, err := s.cfg.MFA.Sealer.Open(userID, t.SealedSecret)
	if err != nil {
		return store.TOTP{}, "", fmt.Errorf("auth: TOTP secret of %s: %w", userID, err)
	}
	return t, secret, nil
}

// checkSecondFactor checks a TOTP code or a recovery code (exactly one is
// set) of userID and spends it: a TOTP step is accepted once, a recovery
// code used once. It returns the RFC 8176 method proved, or
// errInvalidCode. ev (the caller's event) names the device and session for

// verifySecondFactor is checkSecondFactor plus what a wrong code costs: a
// login failure for backoffKey, and ev recorded as invalid_code.
func (s *Service) verifySecondFactor(ctx context.Context, userID, code, recovery string, ev Event, backoffKey string) (string, error) {
	method, err := s.checkSecondFactor(ctx, userID, code, recovery, ev)
	if errors.Is(err, ErrInvalidCode) {
		s.loginFailed(ctx, backoffKey)
		ev.Detail = detailInvalidCode
		s.record(ctx, ev)
	}
	return method, err
}

// callerSecondFactor is how a signed-in caller proves a TOTP code (new
// recovery codes, step-up): their account, the MFA throttle of its
// network, then the code, each failure recorded as an event of type typ.
// It returns the event to complete and the backoff key to clear on
// success.
func (s *Service) callerSecondFactor(ctx context.Context, c Caller, code, typ string) (u store.User, method string, ev Event, backoffKey string, err error) {
	if code == "" {
		return u, "", ev, "", fail(ErrInvalidRequest, "code is required")
	}
	if u, err = s.Me(ctx, c.UserID); err != nil {
		return u, "", ev, "", err
	}
	ev = deviceEvent(typ, OutcomeFailure, c.Device)
	ev.UserID, ev.SessionID = u.ID, c.SessionID
	if backoffKey, err = s.mfaThrottle(ctx, u.Email, c.Device.IP); err != nil {
		ev.Detail = detailRateLimited
		s.record(ctx, ev)
		return u, "", ev, "", err
	}
	method, err = s.verifySecondFactor(ctx, u.ID, code, "", ev, backoffKey)
	return u, method, ev, backoffKey, err
}

// the recovery-code event.
func (s *Service) checkSecondFactor(ctx context.Context, userID, code, recovery string, ev Event) (string, error) {
	now := s.cfg.Clock()
	if code != "" {
		t, secret, err := s.totpSecret(ctx, userID)
		if isNotFound(err) {
			return "", errInvalidCode
		}
		if err != nil {
			return "", err
		}
		step, ok := mfa.MatchTOTP(secret, code, now, t.LastStep)
		if !ok {
			return "", errInvalidCode
		}
		err = s.store.AcceptTOTPStep(ctx, userID, step)
		if errors.Is(err, store.ErrReplayed) || isNotFound(err) {
			return "", errInvalidCode
		}
		if err != nil {
			return "", err
		}
		return amrOTP, nil
	}
	digest, ok := mfa.RecoveryCodeDigest(recovery)
	if !ok {
		return "", errInvalidCode
	}
	err := s.store.ConsumeRecoveryCode(ctx, userID, digest, now)
	if isNotFound(err) {
		return "", errInvalidCode
	}
	if err != nil {
		return "", err
	}
	used := ev
	used.Type, used.Outcome, used.Detail = EventMFARecoveryCodeUsed, OutcomeSuccess, ""
	s.record(ctx, used)
	return amrRecoveryCode, nil
}

// oneCode checks that exactly one of a TOTP code and a recovery code is
// given.
func oneCode(code, recovery string) error {
	if (code == "") == (recovery == "") {
		return fail(ErrInvalidRequest, "give either code or recovery_code")
	}
	return nil
}

// issueChallenge stores a new mfa_token of purpose for u, bound to the
// network of device's IP (the login backoff's: IPv4 /24, IPv6 /64) and to
// u's credential version.
func (s *Service) issueChallenge(ctx context.Context, u store.User, purpose string, amr []string, device Device) (*MFAChallengeInfo, error) {
	tok, digest := mfa.NewChallenge()
	now := s.cfg.Clock()
	err := s.store.CreateMFAChallenge(ctx, store.MFAChallenge{
		Digest: digest, Purpose: purpose, UserID: u.ID, CredentialVersion: u.CredentialVersion,
		Network: ratelimit.NetworkKey(device.IP), CreatedAt: now, ExpiresAt: now.Add(s.cfg.MFA.TokenTTL), AMR: amr,
	})
	if isNotFound(err) {
		return nil, errBadCredentials // the user was deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	info := &MFAChallengeInfo{Token: tok, ExpiresIn: s.cfg.MFA.TokenTTL}
	if purpose == purposeMFALogin {
		info.Methods = slices.Clone(mfaMethods)
	}
	return info, nil
}

// liveChallenge looks up a presented mfa_token of purpose; anything but a
// live one from device's network is errBadMFAToken.
func (s *Service) liveChallenge(ctx context.Context, token, purpose string, device Device) (store.MFAChallenge, error) {
	digest, err := mfa.ChallengeDigest(token)
	if err != nil {
		return store.MFAChallenge{}, errBadMFAToken
	}
	ch, err := s.store.MFAChallenge(ctx, digest, purpose, MaxMFAFailures, s.cfg.Clock())
	if isNotFound(err) {
		return store.MFAChallenge{}, errBadMFAToken
	}
	if err != nil {
		return store.MFAChallenge{}, err
	}
	if ch.Network != ratelimit.NetworkKey(device.IP) {
		return store.MFAChallenge{}, errBadMFAToken
	}
	return ch, nil
}

// mailMFA tells the owner of u that the second factor was turned on or
// off at `at`.
func (s *Service) mailMFA(u store.User, enabled bool, at time.Time) {
	kind := mail.MFADisabled
	if enabled {
		kind = mail.MFAEnabled
	}
	s.enqueue(kind, u.ID, u.Email, func(context.Context) (mail.Data, error) {
		return mail.Data{When: at.UTC().Format(time.RFC1123)}, nil
	})
}
