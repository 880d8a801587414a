package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

// Store is what a Recorder needs of the store.
type Store interface {
	RecordRevocations(ctx context.Context, rs []store.Revocation) ([]store.Revocation, error)
	LiveRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]store.Revocation, error)
	RevocationGeneration(ctx context.Context) (int64, error)
	PurgeRevocations(ctx context.Context, before time.Time, limit int) (int, error)
}

// Marker is the denylist's generation marker and the identity of the
// servers that hold it; *denylist.Redis implements it. A denylist held in
// the process needs none (see Config.Marker).
type Marker interface {
	// Generation returns the marker, and complete false when it (or, on
	// Redis Cluster, one shard's) is missing.
	Generation(ctx context.Context) (gen int64, complete bool, err error)
	// SetGeneration raises the marker to gen.
	SetGeneration(ctx context.Context, gen int64) error
	// Identity changes whenever the servers holding the data restart or
	// fail over.
	Identity(ctx context.Context) (string, error)
}

// Restorer writes many entries again in few round trips; *denylist.Redis
// implements it. Without one, Rebuild replays them through the
// Denylist's own methods.
type Restorer interface {
	Restore(ctx context.Context, entries []denylist.Entry) error
}

// MarkedChecker is a check that also vouches for the generation marker:
// denylist.ErrMarkerMissing when it is gone.
type MarkedChecker interface {
	CheckMarked(ctx context.Context, t denylist.Token) error
}

// ErrRebuilding is what Check returns until the denylist is known to hold
// every revocation of the store. It matches denylist.ErrUnavailable, so
// verifiers that fail closed answer 503.
var ErrRebuilding = fmt.Errorf("%w: denylist being rebuilt from the store", denylist.ErrUnavailable)

// Config configures a Recorder.
type Config struct {
	Store Store
	// Denylist is the denylist the service writes and checks.
	Denylist denylist.Denylist
	// Marker holds the generation; nil keeps it in the process (right
	// for a denylist.Memory, which is lost with the process anyway).
	Marker Marker
	// Restorer writes a rebuild's entries; nil uses Denylist's methods.
	Restorer Restorer
	// MarkedChecker, when set, answers checks instead of Denylist and
	// reads the generation marker in the same round trip, so that a
	// Redis that lost its data is refused from the first check after the
	// loss, not from the next sync; *denylist.Redis implements it.
	MarkedChecker MarkedChecker
	// Interval is how often Run syncs (default time.Second).
	Interval time.Duration
	// PageSize is how many revocations a rebuild reads per query
	// (default 5000, at most store.MaxRevocationPage).
	PageSize int
	// PurgeEvery is how often Run purges expired revocations (default
	// one minute); PurgeBatch bounds one purge statement (default 1000).
	PurgeEvery time.Duration
	PurgeBatch int
	Clock      func() time.Time
	Logger     *slog.Logger
}

// Recorder is a denylist.Denylist that records every revocation in the
// store before writing it to the denylist, and fails its checks closed
// while the denylist is not known to hold every revocation of the store.
// It is safe for concurrent use.
type Recorder struct {
	cfg Config

	// synced is true when the last sync found the denylist complete.
	synced atomic.Bool
	// dirty is set when a denylist write failed after its store record:
	// the entry may be missing, so the next sync rebuilds.
	dirty atomic.Bool
	// kick wakes Run early (after a failure), without blocking.
	kick chan struct{}

	mu sync.Mutex // serializes Sync and Rebuild
	// identity and prevGen are what the last sync saw; under mu.
	identity  string
	prevGen   int64
	lastPurge time.Time
}

var _ denylist.Denylist = (*Recorder)(nil)

// New returns a Recorder; it is not synced until Sync or Rebuild
// succeeds, so Check fails closed until then.
func New(cfg Config) *Recorder {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.PageSize <= 0 || cfg.PageSize > store.MaxRevocationPage {
		cfg.PageSize = 5000
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = time.Minute
	}
	if cfg.PurgeBatch <= 0 || cfg.PurgeBatch > store.MaxRevocationPage {
		cfg.PurgeBatch = 1000
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Marker == nil {
		cfg.Marker = &processMarker{}
	}
	return &Recorder{cfg: cfg, kick: make(chan struct{}, 1)}
}

// Synced reports whether checks are answered (the last sync or rebuild
// found the denylist complete).
func (r *Recorder) Synced() bool { return r.synced.Load() }

// Check answers from the denylist once synced; before, ErrRebuilding. A
// denylist that fails to answer may have restarted empty, so the next
// sync must vouch for it again before checks pass.
func (r *Recorder) Check(ctx context.Context, t denylist.Token) error {
	if !r.synced.Load() {
		return ErrRebuilding
	}
	var err error
	if r.cfg.MarkedChecker != nil {
		err = r.cfg.MarkedChecker.CheckMarked(ctx, t)
	} else {
		err = r.cfg.Denylist.Check(ctx, t)
	}
	if errors.Is(err, denylist.ErrUnavailable) && ctx.Err() == nil {
		r.unsync()
		if errors.Is(err, denylist.ErrMarkerMissing) {
			return ErrRebuilding
		}
	}
	return err
}

// RevokeToken records, then writes, then moves the marker on.
func (r *Recorder) RevokeToken(ctx context.Context, subject, jti string, until time.Time) error {
	if jti == "" || !r.cfg.Clock().Before(until) {
		return r.cfg.Denylist.RevokeToken(ctx, subject, jti, until) // its own answer: invalid, or nothing to do
	}
	return r.revoke(ctx, []store.Revocation{{Kind: store.RevocationToken, Subject: subject, Value: jti, Until: until}},
		func() error { return r.cfg.Denylist.RevokeToken(ctx, subject, jti, until) })
}

// RevokeSessions records one row per sid, then writes, then moves the
// marker on.
func (r *Recorder) RevokeSessions(ctx context.Context, subject string, sids []string, until time.Time) error {
	rs := make([]store.Revocation, 0, len(sids))
	for _, sid := range sids {
		if sid == "" {
			return r.cfg.Denylist.RevokeSessions(ctx, subject, sids, until) // ErrInvalidArgument
		}
		rs = append(rs, store.Revocation{Kind: store.RevocationSession, Subject: subject, Value: sid, Until: until})
	}
	if len(rs) == 0 || !r.cfg.Clock().Before(until) {
		return r.cfg.Denylist.RevokeSessions(ctx, subject, sids, until)
	}
	return r.revoke(ctx, rs, func() error { return r.cfg.Denylist.RevokeSessions(ctx, subject, sids, until) })
}

// RevokeUserBefore records the cutoff, then writes, then moves the marker
// on.
func (r *Recorder) RevokeUserBefore(ctx context.Context, subject string, cutoff, until time.Time) error {
	if subject == "" || cutoff.IsZero() || !r.cfg.Clock().Before(until) {
		return r.cfg.Denylist.RevokeUserBefore(ctx, subject, cutoff, until)
	}
	return r.revoke(ctx, []store.Revocation{{Kind: store.RevocationCutoff, Subject: subject, Cutoff: cutoff, Until: until}},
		func() error { return r.cfg.Denylist.RevokeUserBefore(ctx, subject, cutoff, until) })
}

// revoke records rs, runs write, and raises the marker to the ids it got.
// A store failure stops before the denylist write: nothing is answered
// that the store does not hold. A denylist write that failed leaves a row
// the denylist may lack, so the recorder rebuilds; one that only missed
// its replica acknowledgements (denylist.ErrNotReplicated) is on the
// primary, and a failover is caught by the identity check.
func (r *Recorder) revoke(ctx context.Context, rs []store.Revocation, write func() error) error {
	recorded, err := r.cfg.Store.RecordRevocations(ctx, rs)
	if err != nil {
		return fmt.Errorf("%w: record revocation: %w", denylist.ErrUnavailable, err)
	}
	if err := write(); err != nil {
		if !errors.Is(err, denylist.ErrNotReplicated) {
			r.dirty.Store(true)
			r.wake()
		}
		return err
	}
	gen := recorded[len(recorded)-1].ID
	if err := r.cfg.Marker.SetGeneration(ctx, gen); err != nil {
		// The entry is written; a marker left behind only costs a
		// rebuild, which the next sync does.
		r.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "denylist generation marker not moved", slog.Int64("generation", gen), slog.Any("error", err))
	}
	return nil
}

// Ping reports the denylist's health, and fails while a rebuild is due.
func (r *Recorder) Ping(ctx context.Context) error {
	if !r.synced.Load() {
		return ErrRebuilding
	}
	return r.cfg.Denylist.Ping(ctx)
}

func (r *Recorder) unsync() {
	r.synced.Store(false)
	r.wake()
}

func (r *Recorder) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// processMarker is the marker of a denylist held in the process: it starts
// missing, so the first sync rebuilds the denylist from the store, and
// lives as long as the denylist.
type processMarker struct {
	mu  sync.Mutex
	gen int64
	set bool
}

func (m *processMarker) Generation(context.Context) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, m.set, nil
}

func (m *processMarker) SetGeneration(_ context.Context, gen int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen, m.set = max(m.gen, gen), true
	return nil
}

func (m *processMarker) Identity(context.Context) (string, error) { return "process", nil }
