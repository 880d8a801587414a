package auth

import (
	"context"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// Backoff key prefixes of client authentication; see the README's key
// layout.
const (
	keyClientID = "client:"
	keyClientIP = "clientip:"
)

// throttleClient answers ErrRateLimited while a presented client id (one
// of ids; only well-formed ones are keys) or the client IP is in a delay
// after failed authentications. It only reads.
func (s *Service) throttleClient(ctx context.Context, ids []string, ip string) error {
	var wait time.Duration
	if b := s.cfg.Limits.ClientID; b != nil {
		for _, id := range ids {
			if !IsClientID(id) {
				continue
			}
			if d, err := b.Delay(ctx, keyClientID+id); err == nil {
				wait = max(wait, d)
			}
		}
	}
	if b := s.cfg.Limits.ClientIP; b != nil {
		if d, err := b.Delay(ctx, keyClientIP+ratelimit.IPKey(ip)); err == nil {
			wait = max(wait, d)
		}
	}
	if wait > 0 {
		return rateLimited(wait)
	}
	return nil
}

// A success clears nothing: that would be a limiter write per grant.
// A client that failed and then got its secret right waits out at most
// the delay its failures imposed, and the count lapses with the window.

// clientFailed counts a failed client authentication against the client
// (when it exists: unknown ids would only fill the limiter with keys) and
// the IP.
func (s *Service) clientFailed(ctx context.Context, clientID, ip string) {
	if b := s.cfg.Limits.ClientID; b != nil && clientID != "" {
		_, _ = b.Failure(ctx, keyClientID+clientID) // fail open: see Limits
	}
	if b := s.cfg.Limits.ClientIP; b != nil {
		_, _ = b.Failure(ctx, keyClientIP+ratelimit.IPKey(ip))
	}
}
