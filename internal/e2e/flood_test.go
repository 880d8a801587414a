package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

// flood is concurrent workers sending one request over and over; it
// counts the answers by status.
type flood struct {
	statuses sync.Map // int → *atomic.Int64
	badRetry atomic.Int64
	wg       sync.WaitGroup
}

// floodSpec says what a flood sends, and how hard.
type floodSpec struct {
	workers int
	max     int           // requests per worker; 0: until ctx ends
	timeout time.Duration // per request
	what    string        // names the request in errors
	request func(ctx context.Context) *http.Request
}

// startFlood runs spec's workers until ctx ends or each has sent max
// requests.
func startFlood(ctx context.Context, t testing.TB, spec floodSpec) *flood {
	f := &flood{}
	client := &http.Client{Timeout: spec.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: spec.workers}}
	for range spec.workers {
		f.wg.Go(func() {
			for i := 0; spec.max == 0 || i < spec.max; i++ {
				if ctx.Err() != nil {
					return
				}
				resp, err := client.Do(spec.request(ctx))
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("%s: %v", spec.what, err)
					}
					return
				}
				r := readResponse(t, resp)
				n, _ := f.statuses.LoadOrStore(r.Status, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				if r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") < "1" {
					f.badRetry.Add(1)
				}
			}
		})
	}
	return f
}

// startLoginFlood runs 4 login workers per CPU (twice as many as the
// bcrypt gate has slots by default, per CPU: 4× the slots in all) posting
// a wrong password for a known account until ctx ends or each has sent
// max requests.
func startLoginFlood(ctx context.Context, t testing.TB, s *server, email string, max int) *flood {
	body := `{"email":"` + email + `","password":"wrong horse battery"}`
	return startFlood(ctx, t, floodSpec{
		workers: 4 * runtime.GOMAXPROCS(0), max: max, timeout: 10 * time.Second, what: "login",
		request: func(ctx context.Context) *http.Request {
			req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/v1/login", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		},
	})
}

func (f *flood) count(status int) int64 {
	if n, ok := f.statuses.Load(status); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// A login flood at 4× the bcrypt slots must not stop /v1/verify: every
// verify answers 200 while some logins are turned away with 503 and a
// Retry-After, and nothing is a 500. Latencies are logged, not asserted:
// they are measured by BenchmarkVerifyDuringLoginFlood.
func TestLoginFloodKeepsVerifyAnswering(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		// A short wait, so that a flood on a slow CI machine too is turned
		// away rather than queued; bcrypt niced, as by default.
		cfg.BcryptMaxWait = 20 * time.Millisecond
		cfg.BcryptNice = config.Default().BcryptNice
		s := start(t, cfg, newClock())
		tk := s.signedUp("flo@example.com")

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		f := startLoginFlood(ctx, t, s, "flo@example.com", 200)
		var lat []time.Duration
		client := &http.Client{Timeout: 10 * time.Second}
		for ctx.Err() == nil && len(lat) < 20000 {
			req, _ := http.NewRequest("GET", s.URL+"/v1/verify", nil)
			req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := readResponse(t, resp)
			lat = append(lat, time.Since(start))
			if r.Status != http.StatusOK {
				t.Fatalf("verify during the flood: %d %s", r.Status, r.Body)
			}
		}
		cancel()
		f.wg.Wait()

		ok, unauthorized, busy := f.count(200), f.count(401), f.count(503)
		var total int64
		f.statuses.Range(func(_, n any) bool { total += n.(*atomic.Int64).Load(); return true })
		if other := total - ok - unauthorized - busy; other != 0 || f.count(500) != 0 {
			t.Fatalf("%d login answers other than 401/503 (500s: %d)", other, f.count(500))
		}
		if busy == 0 || f.badRetry.Load() != 0 {
			t.Fatalf("logins: %d 401, %d 503 (%d without a Retry-After ≥ 1); want some 503s", unauthorized, busy, f.badRetry.Load())
		}
		slices.Sort(lat)
		st := s.App.Gate().Stats()
		t.Logf("%d logins by %d workers: %d answered 401 after bcrypt, %d answered 503 (gate: %d admitted, %d queue full, %d timed out)",
			total, 4*runtime.GOMAXPROCS(0), unauthorized, busy, st.Admitted, st.QueueFull, st.TimedOut)
		t.Logf("/v1/verify during the flood: %d requests, p50 %s, p99 %s, max %s",
			len(lat), percentile(lat, .50), percentile(lat, .99), lat[len(lat)-1])
	})
}

// BenchmarkVerifyDuringLoginFlood measures GET /v1/verify over loopback,
// one request at a time, while 4 login workers per CPU keep the bcrypt
// gate full (cost 12): with the default (a slot per CPU on niced threads),
// and at normal priority with a slot
// per CPU and with one CPU left to everything else. ns/op is the mean
// latency; p50 and p99 are reported too.
//
//	go test ./internal/e2e -run '^$' -bench VerifyDuringLoginFlood -benchtime 3s
func BenchmarkVerifyDuringLoginFlood(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, variant := range []struct {
		name        string
		slots, nice int
	}{{"niced,slots=cpus", 0, 10}, {"normal,slots=cpus", procs, 0}, {"normal,slots=cpus-1", max(1, procs-1), 0}} {
		b.Run(variant.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.DataDir = b.TempDir()
			cfg.BcryptCost = 12
			cfg.BcryptMaxConcurrent = variant.slots
			cfg.BcryptNice = variant.nice
			s := start(b, cfg, newClock())
			tk := s.signedUp("flo@example.com")
			ctx, cancel := context.WithCancel(context.Background())
			f := startLoginFlood(ctx, b, s, "flo@example.com", 1<<30)
			defer func() { cancel(); f.wg.Wait() }()
			time.Sleep(200 * time.Millisecond) // let the gate fill

			client := &http.Client{}
			lat := make([]time.Duration, 0, 1<<16)
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest("GET", s.URL+"/v1/verify", nil)
				req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				if r := readResponse(b, resp); r.Status != http.StatusOK {
					b.Fatalf("verify: %d", r.Status)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(percentile(lat, .50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(percentile(lat, .99).Microseconds()), "p99-µs")
			b.ReportMetric(float64(f.count(503)), "logins-503")
		})
	}
}

// BenchmarkRateLimited429 measures what a refused login costs: the client
// IP's budget is spent, so every request is answered 429 by the per-IP
// middleware before its body is read. "loopback" is over HTTP with 32
// keep-alive connections (req/s is the throughput); "handler" is the
// server's own work per request, without the network.
//
//	go test ./internal/e2e -run '^$' -bench RateLimited429 -benchtime 3s
func BenchmarkRateLimited429(b *testing.B) {
	cfg := testConfig()
	cfg.DataDir = b.TempDir()
	cfg.RateLimitEnabled = true
	cfg.RateLimitLoginIP = "1/24h:1"
	s := start(b, cfg, newClock())
	body := `{"email":"a@example.com","password":"correct horse battery"}`
	s.do("POST", "/v1/login", "application/json", body, nil) // spends the budget

	b.Run("loopback", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.SetParallelism(16)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(s.URL+"/v1/login", "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				if r := readResponse(b, resp); r.Status != http.StatusTooManyRequests {
					b.Errorf("status %d", r.Status)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
	b.Run("handler", func(b *testing.B) {
		h := s.App.Handler()
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("POST", "/v1/login", strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusTooManyRequests {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
