package revocation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

// RebuildStats is what one rebuild did.
type RebuildStats struct {
	// Entries is how many live revocations were written again.
	Entries int
	// Generation is the store generation the marker was set to.
	Generation int64
	Took       time.Duration
}

// Reason names why a sync rebuilt; empty when it did not.
type Reason string

// Reasons for a rebuild.
const (
	ReasonStart    Reason = "first sync"
	ReasonMissing  Reason = "generation marker missing"
	ReasonBehind   Reason = "generation marker behind the store"
	ReasonIdentity Reason = "redis restarted or failed over"
	ReasonFailed   Reason = "a denylist write failed"
)

// Sync checks the denylist against the store and rebuilds it when the
// marker is missing (flushed or restarted empty), behind the generation
// the store had at the previous sync (a write lost, or never made by a
// writer that failed), the servers' identity changed (restart, failover:
// acknowledged writes may be gone though the marker is not), or a write
// of this recorder failed. It marks the recorder synced only when none
// holds. A denylist or store that does not answer leaves it unsynced.
func (r *Recorder) Sync(ctx context.Context) (Reason, RebuildStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	storeGen, storeErr := r.cfg.Store.RevocationGeneration(ctx)
	if storeErr != nil {
		// A store outage says nothing of the denylist: judge it against
		// the generation seen last, and rebuild once the store is back.
		storeGen = r.prevGen
	}
	id, err := r.cfg.Marker.Identity(ctx)
	if err != nil {
		r.synced.Store(false)
		return "", RebuildStats{}, err
	}
	gen, complete, err := r.cfg.Marker.Generation(ctx)
	if err != nil {
		r.synced.Store(false)
		return "", RebuildStats{}, err
	}
	var why Reason
	switch {
	case r.identity == "":
		why = ReasonStart
		if complete && gen >= storeGen {
			why = "" // the denylist already holds everything the store has
		}
	case !complete:
		why = ReasonMissing
	case id != r.identity:
		why = ReasonIdentity
	case gen < r.prevGen:
		why = ReasonBehind
	case r.dirty.Load():
		why = ReasonFailed
	}
	if why == "" {
		r.identity, r.prevGen = id, storeGen
		r.synced.Store(true)
		return "", RebuildStats{}, nil
	}
	if storeErr != nil {
		r.synced.Store(false)
		return why, RebuildStats{}, fmt.Errorf("revocation generation: %w", storeErr)
	}
	stats, err := r.rebuild(ctx, id)
	if err != nil {
		return why, stats, err
	}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "denylist rebuilt from the store", slog.String("reason", string(why)),
		slog.Int("entries", stats.Entries), slog.Int64("generation", stats.Generation), slog.Duration("took", stats.Took))
	return why, stats, nil
}

// Rebuild writes every live revocation of the store to the denylist again
// and sets the marker, whatever the marker says: `authd denylist
// rebuild`. Checks fail closed while it runs.
func (r *Recorder) Rebuild(ctx context.Context) (RebuildStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.cfg.Marker.Identity(ctx)
	if err != nil {
		r.synced.Store(false)
		return RebuildStats{}, err
	}
	return r.rebuild(ctx, id)
}

// rebuild runs under mu. The generation is read first: every row up to it
// is listed, and one recorded later is written by its own writer, which
// then raises the marker past it.
func (r *Recorder) rebuild(ctx context.Context, identity string) (RebuildStats, error) {
	start := time.Now()
	r.synced.Store(false)
	r.dirty.Store(false)
	gen, err := r.cfg.Store.RevocationGeneration(ctx)
	if err != nil {
		r.dirty.Store(true)
		return RebuildStats{}, fmt.Errorf("revocation generation: %w", err)
	}
	now := r.cfg.Clock()
	var stats RebuildStats
	var after int64
	for {
		page, err := r.cfg.Store.LiveRevocations(ctx, after, now, r.cfg.PageSize)
		if err != nil {
			r.dirty.Store(true)
			return stats, fmt.Errorf("live revocations: %w", err)
		}
		if err := r.restore(ctx, page); err != nil {
			r.dirty.Store(true)
			return stats, fmt.Errorf("restore: %w", err)
		}
		stats.Entries += len(page)
		if len(page) < r.cfg.PageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	if err := r.cfg.Marker.SetGeneration(ctx, gen); err != nil {
		r.dirty.Store(true)
		return stats, err
	}
	r.identity, r.prevGen = identity, gen
	stats.Generation, stats.Took = gen, time.Since(start)
	r.synced.Store(true)
	return stats, nil
}

// restore writes one page of revocations.
func (r *Recorder) restore(ctx context.Context, page []store.Revocation) error {
	entries := make([]denylist.Entry, len(page))
	for i, rv := range page {
		entries[i] = entry(rv)
	}
	if r.cfg.Restorer != nil {
		return r.cfg.Restorer.Restore(ctx, entries)
	}
	for _, e := range entries {
		var err error
		switch e.Kind {
		case denylist.EventToken:
			err = r.cfg.Denylist.RevokeToken(ctx, e.Subject, e.ID, e.Until)
		case denylist.EventSession:
			err = r.cfg.Denylist.RevokeSessions(ctx, e.Subject, []string{e.ID}, e.Until)
		case denylist.EventUser:
			err = r.cfg.Denylist.RevokeUserBefore(ctx, e.Subject, e.Cutoff, e.Until)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// entry is the denylist entry a stored revocation restores. A kind this
// release does not know (a newer writer's) becomes an entry the denylist
// refuses, so the rebuild fails loudly rather than skip it.
func entry(rv store.Revocation) denylist.Entry {
	e := denylist.Entry{Subject: rv.Subject, ID: rv.Value, Until: rv.Until}
	switch rv.Kind {
	case store.RevocationToken:
		e.Kind = denylist.EventToken
	case store.RevocationSession:
		e.Kind = denylist.EventSession
	case store.RevocationCutoff:
		e.Kind, e.Cutoff = denylist.EventUser, rv.Cutoff
	default:
		e.Kind = denylist.EventKind(rv.Kind)
	}
	return e
}

// Run syncs every Interval (and at once after a failed write or check)
// and purges expired revocations every PurgeEvery, until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, _, err := r.Sync(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "denylist sync failed; checks answer 503 until it succeeds", slog.Any("error", err))
		}
		r.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
	}
}

// purgeRounds bounds the statements of one purge, so that a backlog is
// worked off over several rounds instead of holding the loop.
const purgeRounds = 10

// purge deletes expired revocations in bounded batches, at most every
// PurgeEvery.
func (r *Recorder) purge(ctx context.Context) {
	now := r.cfg.Clock()
	r.mu.Lock()
	due := now.Sub(r.lastPurge) >= r.cfg.PurgeEvery
	if due {
		r.lastPurge = now
	}
	r.mu.Unlock()
	if !due {
		return
	}
	for range purgeRounds {
		n, err := r.cfg.Store.PurgeRevocations(ctx, now, r.cfg.PurgeBatch)
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "purging expired revocations failed", slog.Any("error", err))
			}
			return
		}
		if n < r.cfg.PurgeBatch {
			return
		}
	}
}
