package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Kinds of failure. Every error the Service returns for a client mistake is
// an *Error whose Kind is one of these, so a transport maps Kind to a status
// and shows Description, and nothing else, to the client.
var (
	ErrInvalidRequest     = errors.New("invalid_request")
	ErrWeakPassword       = errors.New("weak_password")
	ErrEmailTaken         = errors.New("email_taken")
	ErrInvalidCredentials = errors.New("invalid_credentials")
	ErrInvalidGrant       = errors.New("invalid_grant")
	ErrUnsupportedGrant   = errors.New("unsupported_grant_type")
	ErrInvalidToken       = errors.New("invalid_token")
	ErrUserDisabled       = errors.New("user_disabled")
	// ErrInvalidOneTimeToken means a mailed token (email verification,
	// password reset) is malformed, unknown, used, expired or of another
	// purpose. Its code is "invalid_token" like ErrInvalidToken's, but it
	// is a distinct kind: a bad request field (400), not an RFC 6750
	// bearer challenge (401 with WWW-Authenticate).
	ErrInvalidOneTimeToken = errors.New("invalid_token")
	// ErrEmailNotVerified refuses login while AUTHD_REQUIRE_VERIFIED_EMAIL
	// is set and the address is unverified.
	ErrEmailNotVerified = errors.New("email_not_verified")
	// ErrNotFound means a resource named in the request (a session) does
	// not exist or belongs to someone else; the two are not told apart.
	ErrNotFound = errors.New("not_found")
	// ErrUnavailable means a dependency (store or denylist) failed, or
	// the bcrypt gate is full, and the request did not take effect; the
	// client may retry (after RetryAfter when set).
	ErrUnavailable = errors.New("temporarily_unavailable")
	// ErrRateLimited refuses an attempt made too soon: over an account's
	// limit, or a login while the account's failures impose a delay. The
	// Error's RetryAfter says when to retry.
	ErrRateLimited = errors.New("rate_limited")
	// ErrConflict refuses an action that would leave the system in a
	// state the caller may not create, such as an admin removing their
	// own admin role.
	ErrConflict = errors.New("conflict")
	// ErrForbidden refuses a valid token that may not use an endpoint,
	// such as a client's token on an endpoint for users. Its code is the
	// RFC 6750 insufficient_scope.
	ErrForbidden = errors.New("insufficient_scope")
	// ErrInvalidClient is a failed client authentication (RFC 6749
	// §5.2): missing, unknown, wrong or disabled client credentials.
	ErrInvalidClient = errors.New("invalid_client")
	// ErrInvalidScope is a requested scope the client may not have.
	ErrInvalidScope = errors.New("invalid_scope")
	// ErrInvalidTarget is a requested audience (RFC 8707 resource) the
	// client may not have tokens for.
	ErrInvalidTarget = errors.New("invalid_target")
	// ErrUnauthorizedClient is a client not allowed the grant it used.
	ErrUnauthorizedClient = errors.New("unauthorized_client")
	// ErrMFARequired answers a right password of a user with a second
	// factor: the Error's MFA carries the mfa_token of the second step.
	ErrMFARequired = errors.New("mfa_required")
	// ErrMFAEnrollmentRequired answers a right password of a user who
	// must have a second factor (a role of MFARequiredRoles) and has none:
	// the Error's MFA carries a token that may only enrol one.
	ErrMFAEnrollmentRequired = errors.New("mfa_enrollment_required")
	// ErrInvalidCode is a wrong, malformed or replayed TOTP or recovery
	// code.
	ErrInvalidCode = errors.New("invalid_code")
)

// MFAChallengeInfo is what a client needs to take a login to its second
// step (ErrMFARequired) or to enrolment (ErrMFAEnrollmentRequired).
type MFAChallengeInfo struct {
	// Token is the mfa_token; only its digest is stored.
	Token string
	// Methods are the second steps the token accepts ("totp",
	// "recovery_code"); empty for an enrolment token.
	Methods []string
	// ExpiresIn is the token's lifetime.
	ExpiresIn time.Duration
}

// Error is a failure whose Description is safe to show to the client. The
// Cause, if any, is for logs only.
type Error struct {
	Kind        error
	Description string
	Cause       error
	// RetryAfter, when positive, is how long the client should wait
	// before retrying (ErrRateLimited, ErrUnavailable).
	RetryAfter time.Duration
	// MFA is set on ErrMFARequired and ErrMFAEnrollmentRequired.
	MFA *MFAChallengeInfo
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Description, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Description)
}

// Unwrap lets errors.Is match both the Kind and the Cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func fail(kind error, description string) error {
	return &Error{Kind: kind, Description: description}
}

func failWith(kind error, description string, cause error) error {
	return &Error{Kind: kind, Description: description, Cause: cause}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
