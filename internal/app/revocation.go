package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/revocation"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/redisurl"
)

// denylistBackend is the denylist the revocation recorder writes: in the
// process, or Redis, with its checks answered by a local Mirror when one
// was asked for.
type denylistBackend struct {
	// dl answers checks and takes writes.
	dl denylist.Denylist
	// writer is the Redis denylist (nil in process); redis its client,
	// which the limiter and the backoff share.
	writer *denylist.Redis
	redis  redis.UniversalClient
	mirror *denylist.Mirror
}

// openDenylist opens the in-process denylist, or the Redis one when
// AUTHD_REDIS_URL is set, with a Mirror in front of its checks when
// mirrored (AUTHD_REVOCATION_MIRROR, for a server). The mirror runs until
// close, not until ctx ends: ctx only bounds the opening.
func openDenylist(ctx context.Context, cfg config.Config, log *slog.Logger, clock func() time.Time, mirrored bool) (*denylistBackend, error) {
	if cfg.RedisURL == "" {
		return &denylistBackend{dl: denylist.NewMemory(denylist.WithClock(clock))}, nil
	}
	rcfg, err := redisurl.Parse(cfg.RedisURL)
	if err != nil {
		// config.Load has checked it; the message never repeats the URL.
		return nil, fmt.Errorf("AUTHD_REDIS_URL: %w", err)
	}
	layout, err := denylist.ParseLayout(cfg.DenylistLayout)
	if err != nil {
		return nil, fmt.Errorf("AUTHD_DENYLIST_LAYOUT: %w", err)
	}
	// Short timeouts: a slow Redis must fail a request fast (503), not
	// hold it. One client, whatever the topology, serves the denylist,
	// the mirror, the rate limiter and the backoff.
	b := &denylistBackend{redis: rcfg.NewClient(redisurl.ClientOptions{DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})}
	log.LogAttrs(ctx, slog.LevelInfo, "redis denylist", slog.String("topology", string(rcfg.Topology)),
		slog.String("url", rcfg.String()), slog.String("layout", layout.String()))
	if rcfg.Topology == redisurl.Cluster && strings.ContainsAny(cfg.RedisKeyPrefix+cfg.RateLimitKeyPrefix, "{}") {
		log.LogAttrs(ctx, slog.LevelWarn, "a Redis key prefix holds a hash tag: its keys all land on one cluster shard",
			slog.String("denylist_prefix", cfg.RedisKeyPrefix), slog.String("ratelimit_prefix", cfg.RateLimitKeyPrefix))
	}
	b.writer = denylist.NewRedis(b.redis, denylist.WithKeyPrefix(cfg.RedisKeyPrefix), denylist.WithClock(clock), denylist.WithLayout(layout),
		denylist.WithMinReplicasAck(cfg.RedisMinReplicasAck, cfg.RedisReplicaAckTimeout))
	b.dl = b.writer
	if !mirrored {
		return b, nil
	}
	b.mirror = denylist.NewMirror(context.WithoutCancel(ctx), b.redis,
		denylist.WithKeyPrefix(cfg.RedisKeyPrefix), denylist.WithClock(clock), denylist.WithLogger(log), denylist.WithLayout(layout))
	b.dl = newMirroredDenylist(b.writer, b.mirror, denylist.DefaultMaxStaleness, log)
	return b, nil
}

// waitReady says at start whether Redis answers, and waits for the
// mirror's first copy so that a healthy start is ready at once; otherwise
// /readyz says not ready until it is. Neither is fatal: /readyz reports
// them and logout answers 503 until Redis comes back.
func (b *denylistBackend) waitReady(ctx context.Context, log *slog.Logger) {
	if b.writer == nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := b.writer.Ping(pctx); err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "redis denylist not answering at start", slog.Any("error", err))
		return
	}
	if b.mirror != nil {
		if err := b.mirror.CatchUp(pctx); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "revocation mirror not in sync at start; checks answer 503 until it is", slog.Any("error", err))
		}
	}
}

// close stops the mirror, then closes the Redis client.
func (b *denylistBackend) close() error {
	var errs []error
	if b.mirror != nil {
		errs = append(errs, b.mirror.Close())
	}
	if b.redis != nil {
		errs = append(errs, b.redis.Close())
	}
	return errors.Join(errs...)
}

// Revocations is the revocation part: the denylist and the
// revocation.Recorder in front of it, which records every revocation in
// the store before writing it to the denylist, and rebuilds the denylist
// from the store when its generation marker says it lost something
// (README, "Losing nothing on failover").
type Revocations struct {
	backend *denylistBackend
	rec     *revocation.Recorder
	// stop ends the sync loop and done closes when it has; nil when none
	// runs.
	stop context.CancelFunc
	done chan struct{}
}

// OpenRevocations opens the denylist (Redis when AUTHD_REDIS_URL is set)
// and the recorder in front of it, for a command that revokes or rebuilds
// and exits: no mirror (it answers no checks) and no sync loop (a
// revocation it writes raises the generation marker; one that failed is
// rebuilt by the serving replicas, which find the marker behind the
// store). The caller closes it.
func OpenRevocations(ctx context.Context, cfg config.Config, log *slog.Logger, st revocation.Store) (*Revocations, error) {
	return openRevocations(ctx, cfg, log, st, time.Now, false)
}

// openRevocations opens the revocation part; serving adds the mirror
// (when configured), the start-up checks, the first sync, so that a
// healthy start answers checks at once, and the loop that syncs every
// AUTHD_DENYLIST_SYNC_INTERVAL until Close.
func openRevocations(ctx context.Context, cfg config.Config, log *slog.Logger, st revocation.Store, clock func() time.Time, serving bool) (*Revocations, error) {
	b, err := openDenylist(ctx, cfg, log, clock, serving && cfg.RevocationMirror)
	if err != nil {
		return nil, err
	}
	rcfg := revocation.Config{Store: st, Denylist: b.dl, Interval: cfg.DenylistSyncInterval, Clock: clock, Logger: log}
	if b.writer != nil {
		rcfg.Marker = b.writer
		rcfg.Restorer = b.writer
		if b.mirror != nil {
			rcfg.Restorer = mirroredRestorer{b.writer, b.mirror}
		} else {
			rcfg.MarkedChecker = b.writer
		}
	}
	r := &Revocations{backend: b, rec: revocation.New(rcfg)}
	if !serving {
		return r, nil
	}
	b.waitReady(ctx, log)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, _, err := r.rec.Sync(sctx); err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "denylist not in sync with the store at start; checks answer 503 until it is", slog.Any("error", err))
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r.stop, r.done = stop, make(chan struct{})
	go func() {
		defer close(r.done)
		r.rec.Run(runCtx)
	}()
	return r, nil
}

// Denylist is the recorder: the denylist the service writes and the
// verifier checks.
func (r *Revocations) Denylist() denylist.Denylist { return r.rec }

// Rebuild writes every live revocation of the store to the denylist again
// and sets its generation marker (`authd denylist rebuild`).
func (r *Revocations) Rebuild(ctx context.Context) (revocation.RebuildStats, error) {
	return r.rec.Rebuild(ctx)
}

// Close stops the sync loop and waits for it, then the mirror and the
// Redis client.
func (r *Revocations) Close() error {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	return r.backend.close()
}

// redis is the Redis client (nil in process), shared with the limits.
func (r *Revocations) redis() redis.UniversalClient { return r.backend.redis }

// mirror is the revocation mirror (nil without one), for its gauges.
func (r *Revocations) mirror() *denylist.Mirror { return r.backend.mirror }

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
