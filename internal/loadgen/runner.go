package loadgen

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on a Config, so that a typo cannot start an unbounded run.
const (
	MaxConcurrency = 10_000
	MaxUsers       = 100_000
	MaxDuration    = time.Hour
	MaxMFATokens   = 100_000
)

// Config configures a Runner.
type Config struct {
	// Target is authd's base URL; use ValidateTarget to obtain it.
	Target *url.URL
	// Client sends every request unless Dial is set; use NewClient. Its
	// Timeout bounds each request either way.
	Client *http.Client
	// Dial, when set and Target is http, makes each worker speak HTTP/1.1
	// itself over one keep-alive connection of its own dialled with it
	// (use NewDialer): about 40% less of the load tool's CPU per request
	// than Client's Transport, which the server gets back when the two
	// share CPUs. An https Target still goes through Client.
	Dial Dialer
	// Concurrency is the number of workers, each with one request in
	// flight at a time (default 1).
	Concurrency int
	// Users is how many users Prepare registers for logins (default
	// Concurrency).
	Users int
	// Duration bounds each phase in time (required).
	Duration time.Duration
	// Requests bounds each phase in count: at most this many requests are
	// started (0: bounded by Duration alone).
	Requests int64
	// Progress receives a line per ProgressInterval while a phase runs
	// (nil: no progress).
	Progress io.Writer
	// ProgressInterval is the time between progress lines (default 1s).
	ProgressInterval time.Duration
	// ServiceClient is the service client the client_credentials scenario
	// authenticates as (authd clients create, or POST /v1/admin/clients);
	// required by that scenario only.
	ServiceClient ServiceClient
	// MFATokens is how many (mfa_token, recovery code) pairs a phase with
	// login_mfa prepares before it starts (default 500): each measured
	// request spends one. They come from MFATokens/10 users of their own,
	// enrolled through the API (10 recovery codes each), and a password
	// login per pair (a bcrypt each, in the setup), so the setup takes
	// about as long as that many logins. The tokens live
	// AUTHD_MFA_TOKEN_TTL from their login: the setup must not take longer.
	MFATokens int
	// ServerPID, when the server runs on this machine, lets each Result
	// say how much CPU it used (Linux /proc; 0: not measured).
	ServerPID int
}

// ServiceClient is a service client's id and secret.
type ServiceClient struct {
	ID, Secret string
}

// Runner drives one authd through phases. Its users and the workers'
// sessions carry over from one phase to the next.
type Runner struct {
	cfg      Config
	prefix   string
	password string
	urls     [numEndpoints]string
	direct   bool                 // workers use their own directConn
	addr     string               // host:port of Target, for Dial
	paths    [numEndpoints]string // request targets, for direct
	users    [][]byte             // login request bodies, one per prepared user
	sessions []*session
	regSeq   atomic.Int64
	// clientGrant is the form body of a client_credentials grant.
	clientGrant []byte
	// mfa holds the login_mfa bodies of the phase; mfaNext the next one
	// to spend.
	mfa     [][]byte
	mfaNext atomic.Int64
	mfaSeq  atomic.Int64
}

// session is the state of one worker's own login.
type session struct {
	user    int
	access  string
	refresh string
	stale   bool // the last call showed it dead: log in again first
}

// NewRunner checks cfg and returns a Runner with a fresh random run prefix.
func NewRunner(cfg Config) (*Runner, error) {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	if cfg.Users == 0 {
		cfg.Users = cfg.Concurrency
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = time.Second
	}
	if cfg.MFATokens == 0 {
		cfg.MFATokens = 500
	}
	var errs []error
	if cfg.Target == nil {
		errs = append(errs, errors.New("no target"))
	}
	if cfg.Client == nil {
		errs = append(errs, errors.New("no HTTP client"))
	}
	if cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1 to %d", cfg.Concurrency, MaxConcurrency))
	}
	if cfg.Users < 1 || cfg.Users > MaxUsers {
		errs = append(errs, fmt.Errorf("users %d: want 1 to %d", cfg.Users, MaxUsers))
	}
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration %s: want more than 0 and at most %s", cfg.Duration, MaxDuration))
	}
	if cfg.MFATokens < 1 || cfg.MFATokens > MaxMFATokens {
		errs = append(errs, fmt.Errorf("MFA tokens %d: want 1 to %d", cfg.MFATokens, MaxMFATokens))
	}
	if cfg.Requests < 0 {
		errs = append(errs, fmt.Errorf("requests %d: must not be negative", cfg.Requests))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, prefix: "ab" + randomHex(5), password: "pw-" + randomHex(12)}
	if c := cfg.ServiceClient; c.ID != "" {
		r.clientGrant = []byte(url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}}.Encode())
	}
	for i, ep := range endpoints {
		r.urls[i] = cfg.Target.String() + ep.path
		r.paths[i] = cfg.Target.EscapedPath() + ep.path
	}
	if cfg.Dial != nil && cfg.Target.Scheme == "http" {
		r.direct = true
		r.addr = net.JoinHostPort(cfg.Target.Hostname(), cmp.Or(cfg.Target.Port(), "80"))
	}
	return r, nil
}

// Prefix returns the run prefix every email of this run starts with.
func (r *Runner) Prefix() string { return r.prefix }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *Runner) email(kind string, n int64) string {
	return fmt.Sprintf("%s-%s%d@authbench.test", r.prefix, kind, n)
}

// Prepare registers the run's users, a few at a time. It is done once;
// Run calls it when needed.
func (r *Runner) Prepare(ctx context.Context) error {
	if r.users != nil {
		return nil
	}
	users := make([][]byte, r.cfg.Users)
	err := r.parallel(ctx, len(users), func(ctx context.Context, w *worker, i int) error {
		email := r.email("u", int64(i))
		body := credentialsBody(email, r.password)
		err := w.retrying(ctx, func() error {
			_, status, err := w.call(ctx, epRegister, "application/json", body, "")
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("status %d", status)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("register %s: %w", email, err)
		}
		users[i] = body
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare users: %w", err)
	}
	r.users = users
	return nil
}

// prepareSessions logs every worker in once (a login per worker).
func (r *Runner) prepareSessions(ctx context.Context) error {
	if r.sessions != nil {
		return nil
	}
	sessions := make([]*session, r.cfg.Concurrency)
	err := r.parallel(ctx, len(sessions), func(ctx context.Context, w *worker, i int) error {
		s := &session{user: i % len(r.users)}
		if err := w.retrying(ctx, func() error { return w.login(ctx, s) }); err != nil {
			return err
		}
		sessions[i] = s
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare sessions: %w", err)
	}
	r.sessions = sessions
	return nil
}

// setupConcurrency bounds the requests in flight while preparing users and
// sessions: each costs the server a bcrypt, and more of them at once than
// it has CPUs only lengthens every one (past the request timeout, with
// thousands of workers).
const setupConcurrency = 8

// parallel runs fn for 0..n-1 on up to setupConcurrency goroutines and
// returns the first error, after which no new item starts.
func (r *Runner) parallel(ctx context.Context, n int, fn func(context.Context, *worker, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, n, setupConcurrency) {
		wg.Go(func() {
			w := r.newWorker(0, nil)
			defer w.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, w, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// Run runs one phase until Duration has passed or Requests have been
// started (requests in flight then are finished and counted), or ctx is
// done. It registers the users and logs the workers in first if that has
// not been done yet.
func (r *Runner) Run(ctx context.Context, p Phase) (*Result, error) {
	if len(p.Mix) == 0 {
		return nil, fmt.Errorf("phase %q: empty mix", p.Name)
	}
	total := 0
	for _, w := range p.Mix {
		if w.Scenario.index() < 0 || w.Weight <= 0 {
			return nil, fmt.Errorf("phase %q: bad weight %v", p.Name, w)
		}
		if w.Scenario == ClientCredentials && r.clientGrant == nil {
			return nil, fmt.Errorf("phase %q: %s needs a service client (Config.ServiceClient)", p.Name, ClientCredentials)
		}
		total += w.Weight
	}
	if err := r.Prepare(ctx); err != nil {
		return nil, err
	}
	for _, w := range p.Mix {
		if w.Scenario == LoginMFA {
			if err := r.prepareMFA(ctx); err != nil {
				return nil, err
			}
			break
		}
	}
	for _, w := range p.Mix {
		if w.Scenario.needsSession() {
			if err := r.prepareSessions(ctx); err != nil {
				return nil, err
			}
			break
		}
	}

	var live liveCounters
	var issued atomic.Int64
	workers := make([]*worker, r.cfg.Concurrency)
	for i := range workers {
		var s *session
		if r.sessions != nil {
			s = r.sessions[i]
		}
		workers[i] = r.newWorker(i, s)
		workers[i].live = &live
	}
	cpu0 := readCPU(r.cfg.ServerPID)
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	stopProgress := r.progress(p.Name, start, &live)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				sc := pick(w.rng, p.Mix, total)
				if r.cfg.Requests > 0 && issued.Add(sc.requests()) > r.cfg.Requests {
					return
				}
				if sc == LoginMFA && r.mfaSpent() {
					return
				}
				w.run(ctx, sc, deadline)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1 := readCPU(r.cfg.ServerPID)
	stopProgress()
	for _, w := range workers {
		w.close()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("phase %s: %w", p.Name, err)
	}
	res := r.result(p, elapsed, workers)
	var ok uint64
	for _, e := range res.Endpoints {
		ok += e.OK
	}
	res.CPU = usage(cpu0, cpu1, ok)
	return res, nil
}

// pick chooses a scenario in proportion to the weights (total is their sum).
func pick(rng *mrand.Rand, mix []Weight, total int) Scenario {
	if len(mix) == 1 {
		return mix[0].Scenario
	}
	n := rng.IntN(total)
	for _, w := range mix {
		if n < w.Weight {
			return w.Scenario
		}
		n -= w.Weight
	}
	return mix[len(mix)-1].Scenario
}

// setupPatience bounds how long one setup request keeps being retried
// while the server answers 429 or 503 (its bcrypt admission queue or rate
// limits turning excess work away).
const setupPatience = time.Minute

// retrying runs call until it returns no error, retrying after the
// server's Retry-After (or a short pause) while it answers 429 or 503, for
// at most setupPatience.
func (w *worker) retrying(ctx context.Context, call func() error) error {
	give := time.Now().Add(setupPatience)
	for {
		err := call()
		if err == nil {
			return nil
		}
		busy := w.lastStatus == http.StatusTooManyRequests || w.lastStatus == http.StatusServiceUnavailable
		if !busy || time.Now().After(give) {
			return err
		}
		pause := min(max(w.retryAfter, 50*time.Millisecond), 5*time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (r *Runner) newWorker(id int, s *session) *worker {
	return &worker{r: r, id: id, sess: s, rng: mrand.New(mrand.NewPCG(mrand.Uint64(), uint64(id)))}
}
