package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/internal/admission"
	"github.com/authd/authd/internal/ratelimit"
)

// Limits slow down attacks aimed at one account, whatever IPs they come
// from; the HTTP layer limits each client IP before the service is called.
// The zero value limits nothing.
//
// The Limiter and Backoff should not fail: the ones authd wires in turn a
// backend outage into "allowed" and log it (fail open). Should one fail
// anyway, the attempt is allowed here too, since an outage of the limiter
// must not lock every user out, and the bcrypt gate still bounds the cost.
type Limits struct {
	// Limiter counts attempts per account; nil disables LoginAccount and
	// ForgotAccount.
	Limiter ratelimit.Limiter
	// LoginAccount bounds login attempts per email, from anywhere: the
	// ceiling against credential stuffing spread over many IPs.
	LoginAccount ratelimit.Limit
	// ForgotAccount bounds reset mails per email, so that nobody can bury
	// a mailbox in them.
	ForgotAccount ratelimit.Limit
	// ChangeAccount bounds password changes per account: a stolen access
	// token must not buy unlimited guesses at the current password.
	ChangeAccount ratelimit.Limit
	// Backoff delays the next login of an account, from the network
	// (IPv4 /24, IPv6 /64) whose attempts failed; nil disables it.
	Backoff ratelimit.Backoff
	// ClientID and ClientIP delay client authentication (the
	// client_credentials grant) after failures of one client id, and from
	// one client IP (IPv6: its /64); nil disables each. They are asked
	// before any store read or digest.
	ClientID ratelimit.Backoff
	ClientIP ratelimit.Backoff
}

// Limiter and backoff key prefixes; see the README's key layout.
const (
	keyLoginAccount  = "acct:login:"
	keyForgotAccount = "acct:forgot:"
	keyChangeAccount = "acct:change:"
	keyLoginBackoff  = "login:"
)

// accountKey stands for a normalised email in limiter keys: 128 bits of its
// SHA-256, base64url. Keys are short and bounded, and Redis never holds an
// address.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// loginBackoffKey keys the backoff of email's failures from ip's network:
// an attacker elsewhere cannot slow the owner's own network down (the
// per-account limit is the ceiling against attacks from many networks).
func loginBackoffKey(email, ip string) string {
	return keyLoginBackoff + accountKey(email) + "|" + ratelimit.NetworkKey(ip)
}

// rateLimited is the answer to an attempt made too soon.
func rateLimited(retryAfter time.Duration) error {
	return &Error{Kind: ErrRateLimited, Description: "too many attempts; retry later", RetryAfter: retryAfter}
}

// allowAccount counts one attempt of kind (a key prefix) against email's
// limit, and returns ErrRateLimited when it is over.
func (s *Service) allowAccount(ctx context.Context, prefix, email string, l ratelimit.Limit) error {
	if s.cfg.Limits.Limiter == nil {
		return nil
	}
	res, err := s.cfg.Limits.Limiter.Allow(ctx, prefix+accountKey(email), l)
	if err != nil || res.Allowed {
		return nil // fail open: see Limits
	}
	return rateLimited(res.RetryAfter)
}

// throttleLogin answers ErrRateLimited, before any bcrypt or store read,
// while the account's backoff from this network lasts or its limit is
// spent.
func (s *Service) throttleLogin(ctx context.Context, email, backoffKey string) error {
	return s.throttle(ctx, backoffKey, keyLoginAccount, email, s.cfg.Limits.LoginAccount)
}

// throttle answers ErrRateLimited while the login backoff of backoffKey
// lasts or email's budget l of kind prefix is spent. The backoff is asked
// first: it only reads, so an attempt it refuses does not also eat into
// the account's budget.
func (s *Service) throttle(ctx context.Context, backoffKey, prefix, email string, l ratelimit.Limit) error {
	if b := s.cfg.Limits.Backoff; b != nil {
		if d, err := b.Delay(ctx, backoffKey); err == nil && d > 0 {
			return rateLimited(d)
		}
	}
	return s.allowAccount(ctx, prefix, email, l)
}

// loginFailed records a failed login for the backoff.
func (s *Service) loginFailed(ctx context.Context, backoffKey string) {
	if b := s.cfg.Limits.Backoff; b != nil {
		_, _ = b.Failure(ctx, backoffKey) // fail open: see Limits
	}
}

// loginSucceeded clears the backoff of a key.
func (s *Service) loginSucceeded(ctx context.Context, backoffKey string) {
	if b := s.cfg.Limits.Backoff; b != nil {
		_ = b.Success(ctx, backoffKey) // at worst the delay runs out by itself
	}
}

// hashFailed maps an error of the bcrypt gate: an overloaded gate is
// ErrUnavailable (503) with its Retry-After, a request that ended while it
// waited is ErrUnavailable too; a caller who already has a bcrypt in
// flight (admission.ErrOwnerBusy) is ErrRateLimited (429), since the
// server has room and only that caller must wait; anything else is
// returned as is.
func hashFailed(err error) error {
	var ov *admission.OverloadedError
	switch {
	case errors.Is(err, admission.ErrOwnerBusy):
		return &Error{Kind: ErrRateLimited, Description: "another password check of this account is in progress; retry when it has finished", Cause: err, RetryAfter: time.Second}
	case errors.As(err, &ov):
		return &Error{Kind: ErrUnavailable, Description: "the server is busy; retry shortly", Cause: err, RetryAfter: ov.RetryAfter}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return failWith(ErrUnavailable, "the request ended before the password was checked; retry", err)
	}
	return fmt.Errorf("auth: %w", err)
}
