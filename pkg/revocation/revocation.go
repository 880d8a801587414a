// Package revocation is the contract between a token verifier and whatever
// knows which tokens are revoked: the Token a check is asked about, the
// Checker interface and its two sentinel errors.
//
// It is a leaf on purpose. pkg/middleware imports it, not pkg/denylist, so
// a service that verifies tokens without a revocation check links no Redis
// client; one that wants the check imports pkg/denylist, whose Memory,
// Redis and Mirror implement Checker. pkg/denylist re-exports every name
// here (denylist.Checker is revocation.Checker), so either import works.
package revocation

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. The texts keep their historical "denylist:" prefix
// because logs and alerts match them.
var (
	// ErrRevoked means the token was revoked.
	ErrRevoked = errors.New("denylist: token revoked")
	// ErrUnavailable means the answer could not be had; the caller decides
	// whether to fail closed or open.
	ErrUnavailable = errors.New("denylist: unavailable")
)

// Token names what a check needs to know of one verified access token.
type Token struct {
	JTI      string
	SID      string // may be empty
	Subject  string
	IssuedAt time.Time
}

// Checker answers whether a token is revoked. It is the only part a
// verifier needs.
type Checker interface {
	// Check returns nil when the token is not revoked, an error matching
	// ErrRevoked when it is, and one matching ErrUnavailable when the
	// answer could not be had. It costs at most one round trip.
	Check(ctx context.Context, t Token) error
}
