package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Limiter decides whether one more event may happen for a key now.
type Limiter interface {
	// Allow counts one event for key against limit if limit allows it now,
	// and reports the outcome. A denied event is not counted, so retrying
	// early does not push the next allowed time further away. Errors match
	// ErrInvalidLimit or ErrUnavailable.
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
}

// Limit is a GCRA (generic cell rate algorithm) limit: Rate events per
// Period on average, and up to Burst of them at once after a quiet spell.
// Events are spaced by the emission interval T = Period/Rate; a key is a
// theoretical arrival time (TAT), and an event at time now is allowed when
// max(TAT, now) + T − Burst×T ≤ now, which moves TAT forward by T. Unlike a
// fixed window it never allows 2×Burst across a window boundary.
type Limit struct {
	// Rate is the number of events per Period once Burst is spent; ≥ 1.
	Rate int
	// Period is the time Rate events take; Period/Rate must be at least
	// a microsecond (Redis keeps time in microseconds).
	Period time.Duration
	// Burst is the number of events allowed at once; ≥ 1.
	Burst int
}

// PerMinute returns a limit of n events a minute with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// String formats l as "5/1m0s burst 10", for logs and config checks.
func (l Limit) String() string { return fmt.Sprintf("%d/%s burst %d", l.Rate, l.Period, l.Burst) }

// Validate returns an error matching ErrInvalidLimit if l cannot be
// enforced. Allow calls it; config validation may call it earlier.
func (l Limit) Validate() error {
	switch {
	case l.Rate < 1:
		return fmt.Errorf("%w: rate %d, want at least 1", ErrInvalidLimit, l.Rate)
	case l.Burst < 1:
		return fmt.Errorf("%w: burst %d, want at least 1", ErrInvalidLimit, l.Burst)
	case l.Period <= 0:
		return fmt.Errorf("%w: period %s, want more than 0", ErrInvalidLimit, l.Period)
	case l.interval() < time.Microsecond:
		return fmt.Errorf("%w: %d events per %s are less than a microsecond apart", ErrInvalidLimit, l.Rate, l.Period)
	case int64(l.Burst) > math.MaxInt64/4/int64(l.interval()):
		return fmt.Errorf("%w: burst %d of events %s apart overflows", ErrInvalidLimit, l.Burst, l.interval())
	}
	return nil
}

// interval is the emission interval T.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Rate) }

// Result is the outcome of one Allow.
type Result struct {
	// Allowed says whether the event may happen; it has been counted.
	Allowed bool
	// Remaining is how many more events would be allowed right now; 0
	// when denied.
	Remaining int
	// RetryAfter is, when denied, how long until the same event would be
	// allowed (send it as Retry-After, rounded up to whole seconds); 0
	// when allowed.
	RetryAfter time.Duration
}

var (
	// ErrUnavailable is matched by every error caused by the backend
	// (Redis) failing or the context ending; the cause is wrapped too.
	// The caller chooses what it means: authd fails open with a log.
	ErrUnavailable = errors.New("ratelimit: backend unavailable")
	// ErrInvalidLimit is matched by the error of a Limit that cannot be
	// enforced.
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidPolicy is matched by the error of a BackoffPolicy that
	// cannot be enforced.
	ErrInvalidPolicy = errors.New("ratelimit: invalid backoff policy")
)
