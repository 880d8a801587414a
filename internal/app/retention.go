package app

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/authd/authd/pkg/store"
)

// auditRetentionLock is the advisory lock a purge pass holds, so that one
// replica at a time deletes.
const auditRetentionLock = "audit-retention"

// Purge pacing. A batch is one DELETE of bounded size, so it holds its row
// locks briefly and the pause lets the write-ahead log, replicas and the
// request path keep up; a pass ends at the first short batch.
const (
	auditPurgeBatch    = 10_000
	auditPurgePause    = time.Second
	auditPurgeInterval = time.Hour
)

// auditPurger deletes audit events older than the retention period in
// bounded batches.
type auditPurger struct {
	log      store.AuditLog
	lock     func(ctx context.Context, key string, fn func(ctx context.Context) error) error
	logger   *slog.Logger
	now      func() time.Time
	period   time.Duration
	batch    int
	pause    time.Duration
	interval time.Duration
	// purged counts the events deleted since start, for the metric.
	purged atomic.Int64
}

// openRetention builds the purger when AUTHD_AUDIT_RETENTION is not off
// and registers its counter; Serve runs it.
func (a *App) openRetention() error {
	period, err := a.cfg.AuditRetentionPeriod()
	if err != nil {
		return err
	}
	if period == 0 {
		return nil
	}
	a.retention = &auditPurger{log: a.store, lock: a.store.WithAdvisoryLock, logger: a.log, now: a.set.clock,
		period: period, batch: auditPurgeBatch, pause: auditPurgePause, interval: auditPurgeInterval}
	a.metrics.CounterFunc("authd_audit_events_purged_total", "Audit events deleted by the retention purge (AUTHD_AUDIT_RETENTION).",
		func() float64 { return float64(a.retention.purged.Load()) })
	return nil
}

// run purges once at start and then every interval until ctx is done. A
// failed pass is logged and retried at the next tick: an outage of the
// store delays retention, nothing else.
func (p *auditPurger) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if n, err := p.pass(ctx); err != nil && ctx.Err() == nil {
			p.logger.LogAttrs(ctx, slog.LevelWarn, "audit retention purge failed", slog.Int64("purged", n), slog.Any("error", err))
		} else if n > 0 {
			p.logger.LogAttrs(ctx, slog.LevelInfo, "audit retention purge", slog.Int64("purged", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pass deletes every event older than the period, batch by batch with a
// pause between, under the advisory lock, and returns how many it deleted.
func (p *auditPurger) pass(ctx context.Context) (int64, error) {
	var total int64
	err := p.lock(ctx, auditRetentionLock, func(ctx context.Context) error {
		before := p.now().Add(-p.period)
		for {
			n, err := p.log.PurgeAuditEvents(ctx, before, p.batch)
			total += n
			p.purged.Add(n)
			if err != nil || n < int64(p.batch) {
				return err
			}
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(p.pause):
			}
		}
	})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return total, nil
	}
	return total, err
}
