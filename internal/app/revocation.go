package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/authd/authd/internal/revocation"
	"github.com/authd/authd/pkg/denylist"
)

// revocationRun is the recorder in front of the denylist and its sync
// loop.
type revocationRun struct {
	rec  *revocation.Recorder
	stop context.CancelFunc
	done chan struct{}
}

// openRevocations puts a revocation.Recorder in front of the denylist:
// every revocation is recorded in the store first, and the denylist is
// rebuilt from the store when its generation marker says it lost
// something (README, "Losing nothing on failover"). It syncs once, so
// that a healthy start answers checks at once, then every
// AUTHD_DENYLIST_SYNC_INTERVAL until Close.
func (a *App) openRevocations(ctx context.Context) {
	cfg := revocation.Config{Store: a.Store, Denylist: a.Denylist, Interval: a.cfg.DenylistSyncInterval, Clock: a.clock, Logger: a.log}
	if a.redisWriter != nil {
		cfg.Marker = a.redisWriter
		cfg.Restorer = a.redisWriter
		if a.mirror != nil {
			cfg.Restorer = mirroredRestorer{a.redisWriter, a.mirror}
		} else {
			cfg.MarkedChecker = a.redisWriter
		}
	}
	rec := revocation.New(cfg)
	a.Denylist = rec
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, _, err := rec.Sync(sctx); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "denylist not in sync with the store at start; checks answer 503 until it is", slog.Any("error", err))
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	run := &revocationRun{rec: rec, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		rec.Run(runCtx)
	}()
	a.revocations = run
}

// closeRevocations stops the sync loop and waits for it.
func (a *App) closeRevocations() {
	if a.revocations != nil {
		a.revocations.stop()
		<-a.revocations.done
	}
}

// RebuildDenylist writes every live revocation of the store to the
// denylist again (`authd denylist rebuild`).
func (a *App) RebuildDenylist(ctx context.Context) (revocation.RebuildStats, error) {
	return a.revocations.rec.Rebuild(ctx)
}

// mirroredRestorer restores through the Redis writer, then waits for this
// replica's mirror to apply what it wrote, so that checks answered from
// the mirror refuse every restored entry once the rebuild reports done.
type mirroredRestorer struct {
	writer *denylist.Redis
	mirror *denylist.Mirror
}

func (m mirroredRestorer) Restore(ctx context.Context, entries []denylist.Entry) error {
	if err := m.writer.Restore(ctx, entries); err != nil {
		return err
	}
	return m.mirror.CatchUp(ctx)
}
