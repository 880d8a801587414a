package mongostore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults.
const (
	// DefaultDatabase is the database used when the URI names none.
	DefaultDatabase = "authd"
	// DefaultTTLRetention is how long after its expiry a document becomes
	// eligible for MongoDB's TTL monitor unless WithTTLRetention says
	// otherwise. Correctness never depends on the deletion (every read
	// checks expiry itself); the retention only bounds storage and keeps
	// expired state around for investigation.
	DefaultTTLRetention = 7 * 24 * time.Hour
	// DefaultLockTTL is how long a lock document (WithAdvisoryLock,
	// Migrate) stays valid without renewal; the holder renews it every
	// third of it, so a crashed holder blocks others for at most this.
	DefaultLockTTL = 30 * time.Second
)

// Option configures Open.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	now          func() time.Time
	ttlRetention time.Duration
	lockTTL      time.Duration
	lockPoll     time.Duration
}

// WithLogger sets the logger for migrations and lock housekeeping. The
// default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock sets the clock used for the times the store fills in itself
// (CreatedAt/UpdatedAt of a user, lock expiries). Every other time comes
// from the caller. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTTLRetention sets how long after its expiry a session, one-time
// token, MFA challenge, signing key or lock document may be deleted by the
// TTL monitor (default DefaultTTLRetention, at least one second). It is
// read when Migrate creates the TTL indexes: changing it later needs a
// collMod of those indexes.
func WithTTLRetention(d time.Duration) Option { return func(c *config) { c.ttlRetention = d } }

// WithLockTTL sets the validity of a lock document between renewals
// (default DefaultLockTTL, at least 300ms).
func WithLockTTL(d time.Duration) Option { return func(c *config) { c.lockTTL = d } }

func newConfig(opts []Option) (config, error) {
	c := config{now: time.Now, ttlRetention: DefaultTTLRetention, lockTTL: DefaultLockTTL, lockPoll: 25 * time.Millisecond}
	for _, o := range opts {
		o(&c)
	}
	var errs []error
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		errs = append(errs, errors.New("WithClock: nil clock"))
	}
	if c.ttlRetention < time.Second {
		errs = append(errs, fmt.Errorf("WithTTLRetention: %v is below one second", c.ttlRetention))
	}
	if c.lockTTL < 300*time.Millisecond {
		errs = append(errs, fmt.Errorf("WithLockTTL: %v is below 300ms", c.lockTTL))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("mongostore: invalid options: %w", errors.Join(errs...))
	}
	return c, nil
}
