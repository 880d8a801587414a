// Package footprint measures what running authd costs besides CPU: the
// wall time from exec to ready, and its resident memory idle and under
// many concurrent keep-alive connections, each figure compared with the
// targets of docs/benchmarks.md (idle RSS ≤ 30 MB, RSS ≤ 100 MB under 1,000 connections,
// start to ready ≤ 300 ms on the embedded default).
//
// Unlike the rest of loadgen, it starts authd itself, from a built binary,
// on free loopback ports and temporary data dirs, and stops it again. It
// reads memory and open files from /proc, so it runs on Linux only. It is
// not a load test (loadgen's phases are): the connections are there to
// weigh on memory, and their rate is reported for reference.
package footprint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/loadgen"
)

// Bounds on a Config, so that a typo cannot start an unbounded run.
const (
	MaxConns    = 20_000
	MaxStarts   = 50
	MaxDuration = 10 * time.Minute
)

// Config configures Measure. Zero fields take the defaults given.
type Config struct {
	// Binary is the authd executable (required).
	Binary string
	// Env holds settings (KEY=VALUE) for authd on top of Measure's own; a
	// later one wins. Empty means the embedded default. AUTHD_* variables
	// of this process's environment are not passed on, and AUTHD_ADDR and
	// AUTHD_DATA_DIR are Measure's to choose. A non-empty
	// AUTHD_DATABASE_URL means authd's state outlives its data dir: only
	// the first start is then on empty state, and the others are timed as
	// second starts.
	Env []string
	// Starts is how many times each kind of start is timed (3).
	Starts int
	// Idle is how long authd idles after its last start before its idle
	// memory is read (2s).
	Idle time.Duration
	// Conns is the number of concurrent connections of the load (1000).
	Conns int
	// Duration is the length of the load after every connection is
	// open (10s).
	Duration time.Duration
	// Sample is the time between memory samples under load (100ms).
	Sample time.Duration
	// Poll is the time between readiness polls (1ms).
	Poll time.Duration
	// ReadyTimeout bounds each start (30s).
	ReadyTimeout time.Duration
	// Timeout bounds each request (10s).
	Timeout time.Duration
	// WorkDir is where the temporary data dirs go (os.TempDir()); they are
	// removed at the end.
	WorkDir string
	// LogFile receives authd's output, appended (default: a temporary
	// file, quoted in errors).
	LogFile string
	// HeapProfiles, when set, is a directory where heap profiles of authd
	// idle (idle.heap.pb.gz) and halfway through the load (load.heap.pb.gz)
	// are written, through AUTHD_PPROF_ADDR on a loopback port.
	HeapProfiles string
	// Progress receives a line per step (nil: none).
	Progress io.Writer
}

// Result is what Measure measured.
type Result struct {
	// Binary is the authd executable measured.
	Binary string `json:"binary"`
	// Settings are the names of Config.Env's variables (not their values,
	// which may be secrets); none means the embedded default.
	Settings []string `json:"settings,omitempty"`
	// SharedState is set when the settings name a database, which outlives
	// the data dir: then only the first start found it empty.
	SharedState bool `json:"shared_state,omitempty"`
	// FirstStart times starts on an empty data dir (key generation and
	// migrations included); SecondStart starts on the data dir a previous
	// start left.
	FirstStart  Startup `json:"first_start"`
	SecondStart Startup `json:"second_start"`
	// PID is the authd measured idle and under load (its last second
	// start).
	PID int `json:"pid"`
	// IdleAfter is how long it idled before Idle was read.
	IdleAfter time.Duration `json:"idle_after_ns"`
	Idle      Memory        `json:"idle"`
	// Load is the connection load and authd's memory under it.
	Load Load `json:"load"`
	// Checks compares the figures with the targets.
	Checks []Check `json:"checks"`
}

// Startup is the wall time from exec to the first 200 from ReadyPath, of
// each start in turn.
type Startup struct {
	Runs   []time.Duration `json:"runs_ns"`
	Median time.Duration   `json:"median_ns"`
	Max    time.Duration   `json:"max_ns"`
}

func (s *Startup) add(d time.Duration) {
	s.Runs = append(s.Runs, d)
	sorted := slices.Sorted(slices.Values(s.Runs))
	n := len(sorted)
	s.Median = (sorted[(n-1)/2] + sorted[n/2]) / 2
	s.Max = sorted[n-1]
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Starts == 0 {
		c.Starts = 3
	}
	if c.Conns == 0 {
		c.Conns = 1000
	}
	def(&c.Idle, 2*time.Second)
	def(&c.Duration, 10*time.Second)
	def(&c.Sample, 100*time.Millisecond)
	def(&c.Poll, time.Millisecond)
	def(&c.ReadyTimeout, 30*time.Second)
	def(&c.Timeout, 10*time.Second)
}

func (c Config) validate() error {
	var errs []error
	if c.Binary == "" {
		errs = append(errs, errors.New("no authd binary"))
	}
	if c.Starts < 1 || c.Starts > MaxStarts {
		errs = append(errs, fmt.Errorf("starts %d: want 1 to %d", c.Starts, MaxStarts))
	}
	if c.Conns < 1 || c.Conns > MaxConns {
		errs = append(errs, fmt.Errorf("connections %d: want 1 to %d", c.Conns, MaxConns))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"idle", c.Idle}, {"duration", c.Duration}, {"sample", c.Sample}, {"poll", c.Poll},
		{"ready timeout", c.ReadyTimeout}, {"timeout", c.Timeout}} {
		if d.v < 0 || d.v > MaxDuration {
			errs = append(errs, fmt.Errorf("%s %s: want 0 to %s", d.name, d.v, MaxDuration))
		}
	}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			errs = append(errs, fmt.Errorf("setting %q: want KEY=VALUE", kv))
		case k == "AUTHD_ADDR" || k == "AUTHD_DATA_DIR":
			errs = append(errs, fmt.Errorf("setting %s: chosen by the measurement (a free loopback port, a temporary data dir)", k))
		}
	}
	return errors.Join(errs...)
}

// sharedState reports whether env points authd at state outside its data
// dir, which a new data dir does not make empty.
func sharedState(env []string) bool {
	shared := false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AUTHD_DATABASE_URL="); ok {
			shared = v != ""
		}
	}
	return shared
}

// Measure starts cfg.Binary cfg.Starts times on an empty data dir and as
// many times on the data dir a start left, timing each from exec to ready;
// then lets the last one idle and reads its memory; then loads it with
// cfg.Conns connections calling /v1/verify and samples its memory; and
// compares the figures with the targets. Every authd it started is
// stopped, and every data dir removed, before it returns, also when ctx
// is cancelled.
func Measure(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return nil, fmt.Errorf("authd binary %s: not a file", cfg.Binary)
	}
	cfg.Binary = bin
	// Client side: every worker's connection, and some to spare.
	if err := raiseOpenFiles(uint64(cfg.Conns) + fileMargin); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(cfg.WorkDir, "authd-footprint-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	logPath := cmp.Or(cfg.LogFile, filepath.Join(work, "authd.log"))
	log, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "footprint: "+format+"\n", args...)
		}
	}

	res := &Result{Binary: cfg.Binary}
	for _, kv := range cfg.Env {
		k, _, _ := strings.Cut(kv, "=")
		res.Settings = append(res.Settings, k)
	}
	st := newStarter(cfg, log)
	shared := sharedState(cfg.Env)
	res.SharedState = shared
	var p *process
	defer func() { _ = p.stop() }() // the one left running, on an early return
	// timedStart starts authd on dir, the i-th start of its kind, and
	// records how long it took to be ready in into.
	timedStart := func(kind string, i int, dir string, into *Startup) (*process, error) {
		q, d, err := st.start(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("%s start %d: %w", kind, i+1, err)
		}
		into.add(d)
		say("%s start %d/%d: ready in %s", kind, i+1, cfg.Starts, d.Round(10*time.Microsecond))
		return q, nil
	}
	var dir string
	for i := range cfg.Starts {
		if i == 0 || !shared {
			dir = filepath.Join(work, "data-"+strconv.Itoa(i))
			if err := os.Mkdir(dir, 0o700); err != nil {
				return nil, err
			}
			q, err := timedStart("first", i, dir, &res.FirstStart)
			if err != nil {
				return nil, err
			}
			if err := q.stop(); err != nil {
				return nil, err
			}
		}
		q, err := timedStart("second", i, dir, &res.SecondStart)
		if err != nil {
			return nil, err
		}
		if i < cfg.Starts-1 {
			if err := q.stop(); err != nil {
				return nil, err
			}
			continue
		}
		p = q
	}
	res.PID = p.pid()

	say("idling %s", cfg.Idle)
	if err := sleep(ctx, cfg.Idle); err != nil {
		return nil, err
	}
	if p.exited() {
		return nil, fmt.Errorf("authd exited while idle: %v%s", p.waitErr, logTail(log))
	}
	res.IdleAfter = cfg.Idle
	if res.Idle, err = readMemory(p.pid()); err != nil {
		return nil, err
	}
	say("idle: VmRSS %.1f MB", megabytes(res.Idle.RSS))
	if err := heapProfile(ctx, cfg, p, "idle"); err != nil {
		return nil, err
	}

	say("load: %d connections calling %s, %s after they are open", cfg.Conns, VerifyPath, cfg.Duration)
	midway := func(ctx context.Context) error { return heapProfile(ctx, cfg, p, "load") }
	if res.Load, err = runLoad(ctx, cfg, p, midway); err != nil {
		return nil, fmt.Errorf("load: %w%s", err, logTail(log))
	}
	say("load: peak VmRSS %.1f MB, %s ok/s, %d errors", megabytes(res.Load.Peak.RSS), formatRate(res.Load.Rate), res.Load.ErrorCount())
	q := p
	p = nil
	if err := q.stop(); err != nil {
		return nil, fmt.Errorf("%w%s", err, logTail(log))
	}
	res.Checks = checks(res)
	return res, nil
}

// heapProfile writes authd's heap profile to cfg.HeapProfiles, if set.
func heapProfile(ctx context.Context, cfg Config, p *process, name string) error {
	if cfg.HeapProfiles == "" || p.pprof == "" {
		return nil
	}
	client := loadgen.NewClient(1, cfg.Timeout, false)
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.pprof+"/debug/pprof/heap", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: status %d", resp.StatusCode)
	}
	if err := os.MkdirAll(cfg.HeapProfiles, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(cfg.HeapProfiles, name+".heap.pb.gz"))
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, 64<<20))
	return errors.Join(err, f.Close())
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
