// Command authbench drives a running authd over HTTP and reports, per
// endpoint, successful requests per second, latency percentiles and errors
// by status; with -limits it also measures what the machine allows (the
// bcrypt bound, the bare rotation transaction on Postgres, raw JWT
// verification) and prints each result as a ratio to its limit.
//
// It only targets loopback addresses unless -allow-remote is given, and
// every phase is bounded by -duration and, optionally, -requests.
//
// Usage:
//
//	authbench [flags]
//	authbench -target http://127.0.0.1:8080 -scenario refresh -duration 15s -concurrency 32
//	authbench -scenario client_credentials,verify -authd-bin ./authd -authd-env AUTHD_DATABASE_URL=… -authd-env AUTHD_MASTER_KEY=…
//	authbench -scenario refresh,login_mfa -mfa-tokens 2000 -duration 15s
//	authbench -limits -postgres 'postgres://postgres@127.0.0.1/postgres?sslmode=disable'
//	authbench -limits -mysql 'mysql://root@127.0.0.1:3306/test' -scenario refresh
//
// See docs/benchmarks.md for what the figures mean and how make bench runs
// it. The helper cmd/authbench/authdprof runs authd in-process with a
// loopback pprof endpoint, for profiling under this load.
//
// With -footprint it loads no running authd: it starts the binary
// -authd-bin itself (the embedded default unless -authd-env says
// otherwise) and measures its startup time and its memory, idle and under
// -footprint-conns keep-alive connections, against the targets of docs/benchmarks.md:
//
//	authbench -footprint -authd-bin ./authd
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/authd/authd/internal/loadgen"
	"github.com/authd/authd/internal/loadgen/footprint"
	"github.com/authd/authd/internal/loadgen/limits"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Values of -client.
const (
	clientDirect  = "direct"
	clientNetHTTP = "net/http"
)

// options are the command-line flags.
type options struct {
	target        string
	allowRemote   bool
	client        string
	scenario      string
	mix           string
	concurrency   int
	users         int
	mfaTokens     int
	duration      time.Duration
	requests      int64
	timeout       time.Duration
	wait          time.Duration
	jsonOut       bool
	jsonFile      string
	quiet         bool
	limits        bool
	bcryptCost    int
	bcryptSamples int
	postgres      string
	mysql         string
	alg           string
	limitDuration time.Duration
	serverPID     int

	clientID     string
	clientSecret string

	footprint  bool
	authdBin   string
	authdEnv   []string
	authdLog   string
	fpStarts   int
	fpIdle     time.Duration
	fpConns    int
	fpDuration time.Duration
	fpHeap     string
}

// limitScenarios are the phases -limits runs unless -scenario is given:
// the three with a target.
const limitScenarios = "login,refresh,verify"

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("authbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "base URL of the authd to load (loopback only unless -allow-remote)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a -target outside the loopback range (only an address you run yourself)")
	fs.StringVar(&o.client, "client", clientDirect, "how workers speak HTTP: "+clientDirect+" (each its own keep-alive connection, requests written and answers parsed in the worker: the least CPU taken from a server on the same machine) or "+clientNetHTTP+" (net/http's Transport); https targets always use "+clientNetHTTP)
	fs.StringVar(&o.scenario, "scenario", "mixed", "phases to run one after another: a comma list of register, login, refresh, me, verify, logout, client_credentials, login_mfa, mixed")
	fs.IntVar(&o.mfaTokens, "mfa-tokens", 500, "mfa_tokens (with a recovery code each) login_mfa prepares before each of its phases; the phase ends when they are spent (each costs a bcrypt login in the setup, and lives AUTHD_MFA_TOKEN_TTL)")
	fs.StringVar(&o.clientID, "client-id", "", "service client of the client_credentials scenario (default: one created with -authd-bin clients create)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "secret of -client-id (or AUTHBENCH_CLIENT_SECRET, kept out of the process list)")
	fs.StringVar(&o.mix, "mix", loadgen.DefaultMix, "weights of the mixed scenario")
	fs.IntVar(&o.concurrency, "concurrency", 32, "workers, each with one request in flight")
	fs.IntVar(&o.users, "users", 0, "users to register before the load (default: -concurrency)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each phase")
	fs.Int64Var(&o.requests, "requests", 0, "at most this many requests per phase (0: bounded by -duration only)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.DurationVar(&o.wait, "wait", 10*time.Second, "wait this long for GET /readyz to answer 200 before starting")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON instead of text")
	fs.StringVar(&o.jsonFile, "json-out", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&o.limits, "limits", false, "measure the machine's limits (each right before the phase compared with it) and print each result as a ratio to its limit (phases default to "+limitScenarios+")")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "bcrypt cost of the bcrypt bound (set it to authd's AUTHD_BCRYPT_COST)")
	fs.IntVar(&o.bcryptSamples, "bcrypt-samples", 8, "bcrypt compares timed for the bcrypt bound")
	fs.StringVar(&o.postgres, "postgres", "", "DSN of authd's Postgres for the rotation bound (a scratch schema is created and dropped); empty: not measured")
	fs.StringVar(&o.mysql, "mysql", "", "mysql:// URL of authd's MySQL/MariaDB for the rotation bound instead of -postgres (a scratch database is created and dropped)")
	fs.StringVar(&o.alg, "alg", "ES256", "signing algorithm of the JWT bound (authd's AUTHD_SIGNING_ALG)")
	fs.DurationVar(&o.limitDuration, "limit-duration", 5*time.Second, "length of the rotation and JWT bound measurements")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the authd under load, when on this machine: each phase then reports its CPU use (Linux)")
	fs.BoolVar(&o.footprint, "footprint", false, "instead of loading -target, start -authd-bin and measure its startup time and memory (idle and under -footprint-conns connections) against the footprint targets (Linux)")
	fs.StringVar(&o.authdBin, "authd-bin", "", "the authd binary -footprint starts, and that creates the client_credentials scenario's client (with -authd-env)")
	fs.Func("authd-env", "a KEY=VALUE setting for the authd -footprint starts (repeatable; none: the embedded default)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("%q: want KEY=VALUE", s)
		}
		o.authdEnv = append(o.authdEnv, s)
		return nil
	})
	fs.StringVar(&o.authdLog, "authd-log", "", "append the output of the authd -footprint starts to this file")
	fs.IntVar(&o.fpStarts, "footprint-starts", 3, "starts timed on an empty data dir, and as many on a used one")
	fs.DurationVar(&o.fpIdle, "footprint-idle", 2*time.Second, "how long authd idles before its idle memory is read")
	fs.IntVar(&o.fpConns, "footprint-conns", 1000, "concurrent keep-alive connections calling /v1/verify")
	fs.DurationVar(&o.fpDuration, "footprint-duration", 10*time.Second, "length of the connection load, once every connection is open")
	fs.StringVar(&o.fpHeap, "footprint-heap", "", "write heap profiles of authd idle and under load to this directory (enables AUTHD_PPROF_ADDR on a loopback port)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.postgres != "" && o.mysql != "" {
		return o, errors.New("-postgres and -mysql: give one database for the rotation bound")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	scenarioSet := false
	fs.Visit(func(f *flag.Flag) { scenarioSet = scenarioSet || f.Name == "scenario" })
	if o.limits && !scenarioSet {
		o.scenario = limitScenarios
	}
	var errs []error
	if o.client != clientDirect && o.client != clientNetHTTP {
		errs = append(errs, fmt.Errorf("-client %q: want %s or %s", o.client, clientDirect, clientNetHTTP))
	}
	if o.timeout <= 0 || o.timeout > time.Minute {
		errs = append(errs, fmt.Errorf("-timeout %s: want more than 0 and at most 1m", o.timeout))
	}
	if o.wait < 0 || o.wait > 5*time.Minute {
		errs = append(errs, fmt.Errorf("-wait %s: want 0 to 5m", o.wait))
	}
	if o.limitDuration <= 0 || o.limitDuration > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-limit-duration %s: want more than 0 and at most 10m", o.limitDuration))
	}
	errs = append(errs, o.footprintErrors()...)
	return o, errors.Join(errs...)
}

// report is the -json output.
type report struct {
	Target      string            `json:"target,omitempty"`
	RunPrefix   string            `json:"run_prefix,omitempty"`
	Concurrency int               `json:"concurrency,omitempty"`
	CPUs        int               `json:"cpus"`
	GoVersion   string            `json:"go_version"`
	Limits      *limitsReport     `json:"limits,omitempty"`
	Phases      []*loadgen.Result `json:"phases,omitempty"`
	Checks      []limits.Check    `json:"checks,omitempty"`
	// GrantRatio compares the client_credentials and verify phases.
	GrantRatio *grantRatio `json:"client_credentials_vs_verify,omitempty"`
	// Footprint is the -footprint measurement (its checks are in it).
	Footprint *footprint.Result `json:"footprint,omitempty"`
}

type limitsReport struct {
	Bcrypt   limits.Bcrypt    `json:"bcrypt"`
	Rotation *limits.Rotation `json:"rotation,omitempty"`
	JWT      limits.JWT       `json:"jwt"`
	// CPU is where the machine's CPU went while each limit was measured,
	// by limit name: Other shows what other processes (and, for the
	// rotation, Postgres) took from it.
	CPU map[string]*loadgen.CPUUsage `json:"cpu,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 2
	}
	if o.footprint {
		return runFootprint(ctx, o, stdout, stderr)
	}
	phases, err := loadgen.ParsePhases(o.scenario, o.mix)
	if err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 2
	}
	target, err := loadgen.ValidateTarget(ctx, o.target, o.allowRemote, nil)
	if err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 2
	}
	client := loadgen.NewClient(o.concurrency, o.timeout, o.allowRemote)
	var dial loadgen.Dialer
	if o.client == clientDirect {
		dial = loadgen.NewDialer(o.allowRemote)
	}
	var progress io.Writer
	if !o.quiet {
		progress = stderr
	}
	var svcClient loadgen.ServiceClient
	if needsServiceClient(phases) {
		if svcClient, err = serviceClient(ctx, o, "authbench-"+time.Now().UTC().Format("20060102T150405")); err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 2
		}
	}
	runner, err := loadgen.NewRunner(loadgen.Config{
		Target: target, Client: client, Dial: dial, Concurrency: o.concurrency, Users: o.users,
		Duration: o.duration, Requests: o.requests, Progress: progress, ServerPID: o.serverPID,
		ServiceClient: svcClient, MFATokens: o.mfaTokens,
	})
	if err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 2
	}
	if err := waitReady(ctx, client, target.String(), o.wait); err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 1
	}

	rep := report{Target: target.String(), RunPrefix: runner.Prefix(), Concurrency: o.concurrency,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	var lm *limitMeter
	if o.limits {
		lm = &limitMeter{o: o, stderr: stderr}
		rep.Limits = &lm.report
	}
	for _, p := range phases {
		// Each limit is measured right before the phase compared with it,
		// while authd idles: close in time, so that whatever else the
		// machine does weighs on both alike, and neither disturbs the other.
		if err := lm.before(ctx, p); err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 1
		}
		if !o.quiet {
			fmt.Fprintf(stderr, "authbench: phase %s, %d workers, %s\n", p.Name, o.concurrency, o.duration)
		}
		res, err := runner.Run(ctx, p)
		if err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 1
		}
		rep.Phases = append(rep.Phases, res)
	}
	if err := lm.rest(ctx); err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 1
	}
	if rep.Limits != nil {
		rep.Checks = checks(rep.Limits, rep.Phases)
	}
	rep.GrantRatio = grantRatioOf(rep.Phases)

	if o.jsonFile != "" {
		if err := writeJSONFile(o.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 1
		}
	}
	if o.jsonOut {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 1
		}
		return 0
	}
	if err := writeText(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 1
	}
	return 0
}

// waitReady polls GET /readyz until it answers 200, for at most d.
func waitReady(ctx context.Context, client *http.Client, base string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			cancel()
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		switch {
		case err == nil && resp.StatusCode == http.StatusOK:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !time.Now().Before(deadline):
			if err == nil {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return fmt.Errorf("%s/readyz not ready after %s: %w", base, d, err)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// limitMeter measures each limit once, when first needed.
type limitMeter struct {
	o                                 options
	stderr                            io.Writer
	report                            limitsReport
	bcryptDone, rotationDone, jwtDone bool
}

func (m *limitMeter) say(format string, args ...any) {
	if !m.o.quiet {
		fmt.Fprintf(m.stderr, "authbench: "+format+"\n", args...)
	}
}

// before measures the limit phase p is compared with, if not done yet.
func (m *limitMeter) before(ctx context.Context, p loadgen.Phase) error {
	if m == nil || len(p.Mix) != 1 {
		return nil
	}
	switch p.Mix[0].Scenario {
	case loadgen.Login:
		return m.measureBcrypt(ctx)
	case loadgen.Refresh:
		return m.measureRotation(ctx)
	case loadgen.Verify:
		return m.measureJWT(ctx)
	}
	return nil
}

// rest measures the limits no phase called for, so the report has them all.
func (m *limitMeter) rest(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return errors.Join(m.measureBcrypt(ctx), m.measureRotation(ctx), m.measureJWT(ctx))
}

// watch runs measure and records the machine's CPU use meanwhile.
func (m *limitMeter) watch(name string, measure func() error) error {
	before := loadgen.ReadCPU(0)
	err := measure()
	if u := loadgen.CPUBetween(before, loadgen.ReadCPU(0), 0); u != nil {
		if m.report.CPU == nil {
			m.report.CPU = map[string]*loadgen.CPUUsage{}
		}
		m.report.CPU[name] = u
	}
	return err
}

func (m *limitMeter) measureBcrypt(ctx context.Context) error {
	if m.bcryptDone {
		return nil
	}
	m.bcryptDone = true
	m.say("limit: bcrypt cost %d, %d compares", m.o.bcryptCost, m.o.bcryptSamples)
	return m.watch("bcrypt", func() (err error) {
		m.report.Bcrypt, err = limits.MeasureBcrypt(ctx, m.o.bcryptCost, m.o.bcryptSamples)
		return err
	})
}

func (m *limitMeter) measureRotation(ctx context.Context) error {
	dsn := m.o.postgres
	if dsn == "" {
		dsn = m.o.mysql
	}
	if m.rotationDone || dsn == "" {
		return nil
	}
	m.rotationDone = true
	m.say("limit: bare rotation transaction, %d connections, %s", limits.RotationConns, m.o.limitDuration)
	return m.watch("rotation", func() error {
		rot, err := limits.MeasureRotation(ctx, dsn, limits.RotationConns, m.o.limitDuration, 0)
		if err != nil {
			return err
		}
		m.report.Rotation = &rot
		return nil
	})
}

func (m *limitMeter) measureJWT(ctx context.Context) error {
	if m.jwtDone {
		return nil
	}
	m.jwtDone = true
	m.say("limit: golang-jwt %s verification on %d CPUs, %s", m.o.alg, runtime.NumCPU(), m.o.limitDuration)
	return m.watch("jwt", func() (err error) {
		m.report.JWT, err = limits.MeasureJWT(ctx, m.o.alg, m.o.limitDuration, 0)
		return err
	})
}

// checks compares the single-scenario phases with their limits (the targets of
// docs/benchmarks.md).
func checks(lr *limitsReport, phases []*loadgen.Result) []limits.Check {
	find := func(s loadgen.Scenario) (e loadgen.EndpointResult, cpu *loadgen.CPUUsage, ok bool) {
		for _, p := range phases {
			if p.Phase == string(s) {
				e, ok = p.Endpoint(s)
				return e, p.CPU, ok
			}
		}
		return e, nil, false
	}
	// other is the larger CPU share of other processes during the phase
	// and during its bound.
	other := func(phase *loadgen.CPUUsage, bound string) float64 {
		var o float64
		if phase != nil {
			o = phase.Other
		}
		if u := lr.CPU[bound]; u != nil {
			o = max(o, u.Other)
		}
		return o
	}
	serverCPU := func(u *loadgen.CPUUsage) time.Duration {
		if u == nil {
			return 0
		}
		return u.ServerPerRequest
	}
	var out []limits.Check
	if e, cpu, ok := find(loadgen.Login); ok {
		out = append(out, limits.Check{Name: "login", Measured: e.Rate, Bound: lr.Bcrypt.Rate(), Basis: lr.Bcrypt.Basis(), Target: 0.9,
			ServerCPU: serverCPU(cpu), BoundCPU: lr.Bcrypt.CPUPerCompare, Other: other(cpu, "bcrypt")})
	}
	if e, _, ok := find(loadgen.Refresh); ok {
		// No noise flag: Postgres's own CPU counts as other here.
		c := limits.Check{Name: "refresh", Measured: e.Rate, Basis: "no -postgres", Target: 0.6}
		if lr.Rotation != nil {
			c.Bound, c.Basis = lr.Rotation.Rate(), lr.Rotation.Basis()
		}
		out = append(out, c)
	}
	if e, cpu, ok := find(loadgen.Verify); ok {
		out = append(out, limits.Check{Name: "verify", Measured: e.Rate, Bound: lr.JWT.Rate(), Basis: lr.JWT.Basis(), Target: 0.8,
			ServerCPU: serverCPU(cpu), BoundCPU: lr.JWT.CPUPerOp, Other: other(cpu, "jwt")})
	}
	return out
}

func writeJSON(w io.Writer, rep report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeJSONFile(path string, rep report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeJSON(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeText(w io.Writer, rep report) error {
	fmt.Fprintf(w, "authbench: %s, %d workers, %d CPUs, %s, run prefix %s\n\n", rep.Target, rep.Concurrency, rep.CPUs, rep.GoVersion, rep.RunPrefix)
	if err := loadgen.WriteText(w, rep.Phases); err != nil {
		return err
	}
	writeGrantRatio(w, rep.GrantRatio)
	if rep.Limits == nil {
		return nil
	}
	l := rep.Limits
	other := func(name string) string {
		if u := l.CPU[name]; u != nil {
			return fmt.Sprintf("  [other processes %.2f cores]", u.Other)
		}
		return ""
	}
	fmt.Fprintf(w, "\nlimits\n")
	fmt.Fprintf(w, "  bcrypt    %s per compare (median of %d, cost %d; %s of CPU) × %d CPUs = %s/s%s\n",
		l.Bcrypt.PerCompare.Round(100*time.Microsecond), l.Bcrypt.Samples, l.Bcrypt.Cost, l.Bcrypt.CPUPerCompare.Round(100*time.Microsecond),
		l.Bcrypt.CPUs, limits.FormatRate(l.Bcrypt.Rate()), other("bcrypt"))
	if l.Rotation != nil {
		fmt.Fprintf(w, "  rotation  %d transactions in %.1fs on %d conns = %s/s%s\n",
			l.Rotation.Tx, l.Rotation.Elapsed.Seconds(), l.Rotation.Conns, limits.FormatRate(l.Rotation.Rate()), other("rotation"))
	}
	fmt.Fprintf(w, "  jwt       %d %s verifications in %.1fs on %d CPUs = %s/s (%s of CPU each)%s\n",
		l.JWT.Ops, l.JWT.Alg, l.JWT.Elapsed.Seconds(), l.JWT.Workers, limits.FormatRate(l.JWT.Rate()), loadgen.FormatLatency(l.JWT.CPUPerOp), other("jwt"))
	fmt.Fprintf(w, "\nratios\n")
	return limits.WriteChecks(w, rep.Checks)
}
