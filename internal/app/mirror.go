package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authd/authd/pkg/denylist"
)

// mirroredDenylist is the denylist with AUTHD_REVOCATION_MIRROR: checks are
// answered by a local denylist.Mirror of Redis (no round trip), writes go
// to Redis, and each write returns only once this replica's mirror has
// applied it, so the replica that took a logout refuses the token at once.
// Other replicas see it within the mirror's staleness bound.
type mirroredDenylist struct {
	*denylist.Redis
	mirror *denylist.Mirror
	log    *slog.Logger
	// catchUpWait bounds the wait after a write; see caughtUp.
	catchUpWait time.Duration
}

var _ denylist.Denylist = (*mirroredDenylist)(nil)

// newMirroredDenylist wraps writer with mirror, whose staleness bound is
// staleness.
func newMirroredDenylist(writer *denylist.Redis, mirror *denylist.Mirror, staleness time.Duration, log *slog.Logger) *mirroredDenylist {
	// A quarter of the bound over it: the margin covers the instants
	// between starting the wait and CatchUp taking its target (caughtUp).
	return &mirroredDenylist{Redis: writer, mirror: mirror, log: log, catchUpWait: staleness + staleness/4}
}

// Check answers from the mirror: ErrUnavailable (503 with FailClosed)
// whenever it cannot vouch for its copy.
func (d *mirroredDenylist) Check(ctx context.Context, t denylist.Token) error {
	return d.mirror.Check(ctx, t)
}

// RevokeToken writes to Redis, then waits for the mirror (caughtUp).
func (d *mirroredDenylist) RevokeToken(ctx context.Context, subject, jti string, until time.Time) error {
	return d.caughtUp(ctx, d.Redis.RevokeToken(ctx, subject, jti, until))
}

// RevokeSessions writes to Redis, then waits for the mirror (caughtUp).
func (d *mirroredDenylist) RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error {
	return d.caughtUp(ctx, d.Redis.RevokeSessions(ctx, subject, sids, until))
}

// RevokeUserBefore writes to Redis, then waits for the mirror (caughtUp).
func (d *mirroredDenylist) RevokeUserBefore(ctx context.Context, subject string, cutoff, until time.Time) error {
	return d.caughtUp(ctx, d.Redis.RevokeUserBefore(ctx, subject, cutoff, until))
}

// Ping fails while the mirror is out of sync (checks would answer 503) or
// Redis does not answer (writes would). The mirror's part costs no round
// trip.
func (d *mirroredDenylist) Ping(ctx context.Context) error {
	return errors.Join(d.mirror.Ping(ctx), d.Redis.Ping(ctx))
}

// caughtUp returns the write's error, or after a successful write waits
// until the mirror has applied it. The wait is detached from the request
// (a client that hangs up must not cut it short) and bounded by
// catchUpWait, which exceeds the staleness bound: if the mirror has not
// caught up by then, no confirmation sent since the write has come back,
// so its latest one is older than the bound and Check fails closed until
// one that covers the write arrives. Either way this replica refuses the
// revoked token from the moment the write returns. The write itself
// succeeded, so the caller is told so; the lag is logged.
func (d *mirroredDenylist) caughtUp(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.catchUpWait)
	defer cancel()
	if err := d.mirror.CatchUp(wctx); err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "revocation written to Redis but the local mirror has not caught up; its checks fail closed until it does",
			slog.Any("error", err))
	}
	return nil
}
