package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Backoff slows down repeated failures on one key, an account in authd:
// after more than Free failures with no gap longer than Window between
// them, each new failure makes the key wait before its next attempt. It is
// a delay, never a lockout, and Success clears it.
//
// The caller asks Delay before doing the work (bcrypt); while it is
// positive it answers 429 with Retry-After = Delay and records nothing.
// Otherwise it does the work and reports Failure or Success.
type Backoff interface {
	// Failure records a failed attempt for key and returns the delay now
	// imposed on its next attempt (0 while within the free failures).
	Failure(ctx context.Context, key string) (time.Duration, error)
	// Success forgets key's failures and delay.
	Success(ctx context.Context, key string) error
	// Delay returns how long key must still wait before its next attempt;
	// 0 if it may try now.
	Delay(ctx context.Context, key string) (time.Duration, error)
}

// BackoffPolicy says how failures turn into delays: after k failures the
// next attempt waits DelayAfter(k) = 0 for k ≤ Free, else
// min(Base×2^(k−Free), Max). The count restarts when Window passes without
// a failure, or on Success.
type BackoffPolicy struct {
	// Free is the number of failures that cost no delay; ≥ 0.
	Free int
	// Base scales the delay: the first failure beyond Free waits 2×Base,
	// the next 4×Base, and so on; > 0. Redis keeps it in whole
	// milliseconds, rounded up.
	Base time.Duration
	// Max caps the delay; ≥ Base and at most 30 days.
	Max time.Duration
	// Window is how long a failure is remembered: the count restarts
	// after Window with no failure; > 0 and at most 30 days.
	Window time.Duration
}

// DefaultBackoffPolicy returns the policy authd uses unless configured:
// 5 free failures, then 2 s, 4 s, … up to 15 min, forgotten after an hour
// without a failure. An attacker failing on purpose thus costs a user at
// most a 15-minute wait per attempt, and gets 4 guesses an hour.
func DefaultBackoffPolicy() BackoffPolicy {
	return BackoffPolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour}
}

// Validate returns an error matching ErrInvalidPolicy if p cannot be
// enforced.
func (p BackoffPolicy) Validate() error {
	switch {
	case p.Free < 0:
		return fmt.Errorf("%w: free %d, want at least 0", ErrInvalidPolicy, p.Free)
	case p.Base <= 0:
		return fmt.Errorf("%w: base %s, want more than 0", ErrInvalidPolicy, p.Base)
	case p.Max < p.Base:
		return fmt.Errorf("%w: max %s below base %s", ErrInvalidPolicy, p.Max, p.Base)
	case p.Max > maxPolicyDuration:
		return fmt.Errorf("%w: max %s, want at most %s", ErrInvalidPolicy, p.Max, maxPolicyDuration)
	case p.Window <= 0 || p.Window > maxPolicyDuration:
		return fmt.Errorf("%w: window %s, want more than 0 and at most %s", ErrInvalidPolicy, p.Window, maxPolicyDuration)
	}
	return nil
}

// maxPolicyDuration bounds Max and Window: longer would be a lockout in
// all but name, and keeps the Redis script's arithmetic exact.
const maxPolicyDuration = 30 * 24 * time.Hour

// DelayAfter returns the wait imposed after k failures within the window.
func (p BackoffPolicy) DelayAfter(k int) time.Duration {
	over := k - p.Free
	if over <= 0 {
		return 0
	}
	// Base<<over overflows once over is large: stop doubling at Max.
	d := p.Base
	for range over {
		if d > p.Max/2 {
			return p.Max
		}
		d *= 2
	}
	return d
}
