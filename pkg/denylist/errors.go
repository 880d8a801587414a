package denylist

import (
	"errors"
	"fmt"
	"time"
)

// Revocation reasons. They are built once so that a check that finds a
// revoked token allocates nothing, and each says which entry matched, for
// the logs; callers match them with errors.Is(err, ErrRevoked).
var (
	errTokenRevoked   = fmt.Errorf("%w: token id revoked", ErrRevoked)
	errSessionRevoked = fmt.Errorf("%w: session revoked", ErrRevoked)
	errUserRevoked    = fmt.Errorf("%w: issued before the user's cutoff", ErrRevoked)
)

// validateIDs rejects an empty id: it would name no token, or, for a
// session, every token without a sid.
func validateIDs(what string, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("%w: empty %s", ErrInvalidArgument, what)
		}
	}
	return nil
}

// cutoffRevokes reports whether a per-user cutoff (unix seconds) refuses a
// token issued at iat; the comparison is in whole seconds, as iat is.
func cutoffRevokes(cutoff int64, iat time.Time) bool {
	return iat.Unix() < cutoff
}

// errMGetLength is a reply of the wrong length, which Redis never sends.
var errMGetLength = errors.New("MGET returned the wrong number of values")
