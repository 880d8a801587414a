package denylist

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/pkg/revocation"
)

// Sentinel errors. ErrRevoked and ErrUnavailable are pkg/revocation's, so
// errors.Is matches whichever package the caller names.
var (
	// ErrRevoked means the token was revoked.
	ErrRevoked = revocation.ErrRevoked
	// ErrUnavailable means the denylist could not be read or written;
	// the caller decides whether to fail closed or open.
	ErrUnavailable = revocation.ErrUnavailable
	// ErrInvalidArgument means a revocation was asked with an empty id; it
	// is the caller's bug, not an outage, so it never matches ErrUnavailable.
	ErrInvalidArgument = errors.New("denylist: invalid argument")
)

// Token names what a check needs to know of one verified access token.
// It is revocation.Token, so a verifier need not import this package.
type Token = revocation.Token

// Checker answers whether a token is revoked; it is revocation.Checker,
// the only part a verifier needs.
type Checker = revocation.Checker

// Denylist records revocations and answers checks.
type Denylist interface {
	Checker
	// RevokeToken refuses the access token jti of subject (its sub
	// claim) until `until` (its exp). The subject places the entry: a
	// Redis denylist keys it under the subject's hash tag (layout v2),
	// so a check finds it with the token's sub.
	RevokeToken(ctx context.Context, subject, jti string, until time.Time) error
	// RevokeSessions refuses every access token carrying one of sids, all
	// sessions of subject, until `until` (the latest exp any of them can
	// have). One round trip.
	RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error
	// RevokeUserBefore refuses every token of subject whose iat is before
	// cutoff (compared in whole seconds: iat < cutoff.Unix()), until
	// `until`. A later cutoff replaces an earlier one, never the reverse.
	RevokeUserBefore(ctx context.Context, subject string, cutoff, until time.Time) error
	// Ping reports whether the denylist answers.
	Ping(ctx context.Context) error
}
