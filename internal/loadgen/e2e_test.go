package loadgen_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/loadgen"
	"github.com/authd/authd/internal/testenv/authdtest"
)

// startAuthd runs a real authd on the embedded default on a loopback port
// until the test ends and returns its base URL.
func startAuthd(t *testing.T) string {
	t.Helper()
	base, _ := startAuthdApp(t)
	return base
}

// startAuthdApp is startAuthd, also returning the running App.
func startAuthdApp(t *testing.T) (string, *app.App) {
	t.Helper()
	// Through the environment, so that settings an authd version does not
	// know are ignored rather than failing to compile: per-IP rate limits
	// off (every request here comes from one address) and a patient bcrypt
	// admission queue (bcrypt is slow under the race detector), at normal
	// priority (niced, it would yield to the packages tested in parallel).
	env := map[string]string{
		"AUTHD_BCRYPT_NICE":       "0",
		"AUTHD_BCRYPT_COST":       "10",
		"AUTHD_DATA_DIR":          t.TempDir(),
		"AUTHD_LOG_LEVEL":         "error",
		"AUTHD_RATELIMIT_ENABLED": "false",
		"AUTHD_BCRYPT_MAX_WAIT":   "30s",
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	cfg.MetricsAddr = "" // tests run in parallel; no fixed metrics port
	a, _ := authdtest.Serve(t, cfg, ln, slog.New(slog.DiscardHandler))
	return "http://" + cfg.Addr, a
}

// serviceClient creates a service client in a, as `authd clients create`
// does.
func serviceClient(t *testing.T, a *app.App) loadgen.ServiceClient {
	t.Helper()
	cs, err := a.Service().CreateClient(context.Background(), auth.Actor{}, auth.NewClient{Name: "authbench"})
	if err != nil {
		t.Fatal(err)
	}
	return loadgen.ServiceClient{ID: cs.Client.ID, Secret: cs.Secret}
}

func newRunner(t *testing.T, base string, cfg loadgen.Config) *loadgen.Runner {
	t.Helper()
	target, err := loadgen.ValidateTarget(context.Background(), base, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = target
	// Patient: bcrypt is slow under the race detector and runs on
	// low-priority threads, which other tests' load (parallel packages,
	// other processes) can hold up for seconds. No test here measures
	// latency.
	cfg.Client = loadgen.NewClient(cfg.Concurrency, time.Minute, false)
	r, err := loadgen.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRunAgainstAuthd runs every scenario alone and then mixed, about a
// second in all, against a real authd, through each client: every
// endpoint must answer, and without a single error (refresh chains
// included: each worker presents the token it was just given).
func TestRunAgainstAuthd(t *testing.T) {
	base, a := startAuthdApp(t)
	sc := serviceClient(t, a)
	for _, tc := range []struct {
		name string
		dial loadgen.Dialer
	}{
		{"net/http", nil},
		{"direct", loadgen.NewDialer(false)},
	} {
		t.Run(tc.name, func(t *testing.T) { runEveryScenario(t, base, tc.dial, sc) })
	}
}

func runEveryScenario(t *testing.T, base string, dial loadgen.Dialer, sc loadgen.ServiceClient) {
	var progress bytes.Buffer
	r := newRunner(t, base, loadgen.Config{Concurrency: 4, Duration: 150 * time.Millisecond, Dial: dial,
		Progress: &progress, ProgressInterval: 50 * time.Millisecond, ServiceClient: sc, MFATokens: 10})
	phases, err := loadgen.ParsePhases("register,login,refresh,me,verify,logout,client_credentials,login_mfa,mixed",
		"verify=5,me=2,refresh=3,login=1,logout=1,register=1,client_credentials=2,login_mfa=1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var results []*loadgen.Result
	for _, p := range phases {
		res, err := r.Run(ctx, p)
		if err != nil {
			t.Fatalf("phase %s: %v", p.Name, err)
		}
		results = append(results, res)
		if n := res.ErrorCount(); n != 0 {
			t.Errorf("phase %s: %d errors: %+v", p.Name, n, res.Endpoints)
		}
		if res.Relogins != 0 {
			t.Errorf("phase %s: %d re-logins", p.Name, res.Relogins)
		}
		if p.Name == "mixed" {
			continue
		}
		want := []loadgen.Scenario{loadgen.Scenario(p.Name)}
		if p.Name == "logout" {
			want = append(want, loadgen.Login) // each logout logs a session in first
		}
		for _, s := range want {
			e, ok := res.Endpoint(s)
			if !ok || e.OK == 0 || e.Rate <= 0 {
				t.Errorf("phase %s: endpoint %s: %+v", p.Name, s, e)
				continue
			}
			if e.P50 <= 0 || e.P50 > e.P90 || e.P90 > e.P99 || e.P99 > e.Max {
				t.Errorf("phase %s: endpoint %s: percentiles out of order: %v %v %v %v", p.Name, s, e.P50, e.P90, e.P99, e.Max)
			}
		}
		if len(res.Endpoints) != len(want) {
			t.Errorf("phase %s: endpoints %+v, want only %v", p.Name, res.Endpoints, want)
		}
	}
	if !strings.Contains(progress.String(), "ok, 0 errors") {
		t.Errorf("no progress line: %q", progress.String())
	}
	var text bytes.Buffer
	if err := loadgen.WriteText(&text, results); err != nil {
		t.Fatal(err)
	}
	for _, s := range loadgen.Scenarios {
		if !strings.Contains(text.String(), "\n"+string(s)) && !strings.Contains(text.String(), " "+string(s)+"  ") {
			t.Errorf("report has no %s line:\n%s", s, text.String())
		}
	}
}

// TestRequestsBound checks that -requests stops a phase long before its
// duration, at exactly that many requests.
func TestRequestsBound(t *testing.T) {
	base := startAuthd(t)
	r := newRunner(t, base, loadgen.Config{Concurrency: 3, Duration: time.Minute, Requests: 25})
	start := time.Now()
	res, err := r.Run(context.Background(), loadgen.Phase{Name: "verify", Mix: []loadgen.Weight{{Scenario: loadgen.Verify, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("took %s: the count bound did not stop it", time.Since(start))
	}
	if e, _ := res.Endpoint(loadgen.Verify); e.OK != 25 || res.ErrorCount() != 0 {
		t.Fatalf("verify: %d ok, %d errors; want 25 and 0", e.OK, res.ErrorCount())
	}
}

// TestCancelStopsPromptly checks that a cancelled context ends a phase
// with an error instead of a partial result.
func TestCancelStopsPromptly(t *testing.T) {
	base := startAuthd(t)
	r := newRunner(t, base, loadgen.Config{Concurrency: 2, Duration: time.Minute})
	if err := r.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Run(ctx, loadgen.Phase{Name: "me", Mix: []loadgen.Weight{{Scenario: loadgen.Me, Weight: 1}}}); err == nil {
		t.Fatal("a cancelled phase returned a result")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %s to stop", d)
	}
}

// The client_credentials scenario needs a service client: without one a
// phase is refused before any request.
func TestClientCredentialsNeedsServiceClient(t *testing.T) {
	target, _ := loadgen.ValidateTarget(context.Background(), "http://127.0.0.1:1", false, nil)
	r, err := loadgen.NewRunner(loadgen.Config{Target: target, Client: loadgen.NewClient(1, time.Second, false), Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Run(context.Background(), loadgen.Phase{Name: "client_credentials", Mix: []loadgen.Weight{{Scenario: loadgen.ClientCredentials, Weight: 1}}})
	if err == nil || !strings.Contains(err.Error(), "service client") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewRunnerRefusesUnboundedConfig(t *testing.T) {
	target, _ := loadgen.ValidateTarget(context.Background(), "http://127.0.0.1:1", false, nil)
	client := loadgen.NewClient(1, time.Second, false)
	for _, tt := range []struct {
		name string
		cfg  loadgen.Config
	}{
		{"no duration", loadgen.Config{Target: target, Client: client}},
		{"too long", loadgen.Config{Target: target, Client: client, Duration: 2 * loadgen.MaxDuration}},
		{"negative requests", loadgen.Config{Target: target, Client: client, Duration: time.Second, Requests: -1}},
		{"too many workers", loadgen.Config{Target: target, Client: client, Duration: time.Second, Concurrency: loadgen.MaxConcurrency + 1}},
		{"no target", loadgen.Config{Client: client, Duration: time.Second}},
		{"no client", loadgen.Config{Target: target, Duration: time.Second}},
	} {
		if _, err := loadgen.NewRunner(tt.cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// TestLoginMFAAgainstAuthd prepares mfa_tokens and recovery codes outside
// the measurement and spends each once: the phase ends when they are
// spent, every one answered 200 with tokens, and a second phase prepares
// its own.
func TestLoginMFAAgainstAuthd(t *testing.T) {
	base := startAuthd(t)
	const tokens = 23 // not a multiple of 10: the last user's codes are not all used
	r := newRunner(t, base, loadgen.Config{Concurrency: 4, Duration: 30 * time.Second, MFATokens: tokens,
		Dial: loadgen.NewDialer(false)})
	p := loadgen.Phase{Name: "login_mfa", Mix: []loadgen.Weight{{Scenario: loadgen.LoginMFA, Weight: 1}}}
	for round := range 2 {
		res, err := r.Run(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := res.Endpoint(loadgen.LoginMFA)
		if !ok || e.OK != tokens || res.ErrorCount() != 0 || len(res.Endpoints) != 1 {
			t.Fatalf("round %d: %+v", round, res.Endpoints)
		}
		if res.Elapsed >= 30*time.Second {
			t.Fatalf("round %d: the phase ran to its duration (%s) instead of ending when the tokens were spent", round, res.Elapsed)
		}
	}
}
