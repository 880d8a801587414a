package footprint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/loadgen"
)

// VerifyPath is the endpoint the connections call: forward-auth of an
// access token, the request a gateway makes for every call it lets through.
const VerifyPath = "/v1/verify"

// fileMargin is what authd needs open besides the load's connections
// (database, logs, listeners).
const fileMargin = 64

// transportBackoff pauses a worker after a failed connection, so that a
// dead server is not spun on.
const transportBackoff = 20 * time.Millisecond

// Load is what the connection load measured.
type Load struct {
	// Conns is the number of workers, each with its own keep-alive
	// connection and one request in flight at a time.
	Conns int `json:"connections"`
	// Opened counts the connections the workers dialled: Conns when every
	// one was kept alive throughout. (A request on a connection that died
	// is retried on a new one without an error; a few such retries show
	// on a loaded machine, against a bare net/http server too.)
	Opened int64 `json:"connections_opened"`
	// Ramp is the time from starting the workers until each had its first
	// answer (and so its connection).
	Ramp time.Duration `json:"ramp_ns"`
	// Elapsed is the wall time of the timed part, after the ramp, until
	// its last request finished.
	Elapsed time.Duration `json:"elapsed_ns"`
	// OK counts the successful requests of the timed part; Rate is OK per
	// second of Elapsed.
	OK   uint64  `json:"ok"`
	Rate float64 `json:"ok_per_second"`
	// Errors counts failed requests, ramp included, by class: an HTTP
	// status ("401"), "transport" or "timeout".
	Errors map[string]int64 `json:"errors,omitempty"`
	// P50, P99 and Max are latencies of the timed part's successful
	// requests, from sending to the last byte of the answer.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Peak is the memory sample with the largest VmRSS (ramp included),
	// with the VmHWM read at the end of the load.
	Peak Memory `json:"peak"`
	// Samples is the number of memory samples taken.
	Samples int `json:"samples"`
	// OpenFiles is the most file descriptors authd held at a sample, and
	// OpenFilesLimit its soft limit on them (-1: unlimited).
	OpenFiles      int   `json:"authd_open_files_peak"`
	OpenFilesLimit int64 `json:"authd_open_files_limit"`
	// CPU is where the machine's CPU went during the timed part.
	CPU *loadgen.CPUUsage `json:"cpu,omitempty"`
}

// ErrorCount returns the number of failed requests.
func (l Load) ErrorCount() int64 {
	var n int64
	for _, c := range l.Errors {
		n += c
	}
	return n
}

// runLoad opens cfg.Conns connections to p, each calling /v1/verify with
// a valid access token one request at a time, for cfg.Duration after
// every connection had its first answer, sampling authd's memory
// throughout. Halfway through it calls midway (if not nil), with every
// connection open.
func runLoad(ctx context.Context, cfg Config, p *process, midway func(context.Context) error) (Load, error) {
	l := Load{Conns: cfg.Conns}
	target, err := loadgen.ValidateTarget(ctx, p.base, false, nil)
	if err != nil {
		return l, err
	}
	token, err := accessToken(ctx, target.String(), cfg.Timeout)
	if err != nil {
		return l, err
	}
	if l.OpenFilesLimit, err = openFilesLimit(p.pid()); err != nil {
		return l, err
	}
	if need := int64(cfg.Conns) + fileMargin; l.OpenFilesLimit >= 0 && l.OpenFilesLimit < need {
		return l, fmt.Errorf("authd's open-files limit is %d, below the %d the load needs (raise ulimit -n)", l.OpenFilesLimit, need)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := make([]*worker, cfg.Conns)
	for i := range workers {
		w, err := newWorker(ctx, target.String()+VerifyPath, token, cfg.Timeout)
		if err != nil {
			return l, err
		}
		workers[i] = w
	}
	smp := startSampler(p.pid(), cfg.Sample)
	var connected, done sync.WaitGroup
	start := make(chan struct{})
	var deadline time.Time // set before start is closed
	rampStart := time.Now()
	for _, w := range workers {
		connected.Add(1)
		done.Go(func() {
			defer w.client.CloseIdleConnections()
			w.call(ctx, false) // opens the worker's connection
			connected.Done()
			select {
			case <-start:
			case <-ctx.Done():
				return
			}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				w.call(ctx, true)
			}
		})
	}
	connected.Wait()
	l.Ramp = time.Since(rampStart)
	cpu0 := loadgen.ReadCPU(p.pid())
	begin := time.Now()
	deadline = begin.Add(cfg.Duration)
	close(start)
	midErr := make(chan error, 1)
	go func() {
		if midway == nil || sleep(ctx, cfg.Duration/2) != nil {
			midErr <- nil
			return
		}
		midErr <- midway(ctx)
	}()
	done.Wait()
	l.Elapsed = time.Since(begin)
	cpu1 := loadgen.ReadCPU(p.pid())
	s := smp.stop()
	if err := ctx.Err(); err != nil {
		return l, err
	}
	if err := <-midErr; err != nil {
		return l, err
	}
	if p.exited() {
		return l, fmt.Errorf("authd exited during the load: %v", p.waitErr)
	}
	if s.err != nil {
		return l, s.err
	}

	var hist loadgen.Histogram
	for _, w := range workers {
		l.Opened += w.opened.Load()
		l.OK += uint64(len(w.lat))
		for _, d := range w.lat {
			hist.Record(d)
		}
		for class, n := range w.errs {
			if l.Errors == nil {
				l.Errors = map[string]int64{}
			}
			l.Errors[class] += n
		}
	}
	if l.Elapsed > 0 {
		l.Rate = float64(l.OK) / l.Elapsed.Seconds()
	}
	l.P50, l.P99, l.Max = hist.Quantile(0.5), hist.Quantile(0.99), hist.Max()
	l.CPU = loadgen.CPUBetween(cpu0, cpu1, l.OK)
	l.Peak, l.Samples, l.OpenFiles = s.peak, s.n, s.files
	// VmHWM covers the whole load, between samples too.
	end, err := readMemory(p.pid())
	if err != nil {
		return l, err
	}
	l.Peak.HWM = end.HWM
	if end.RSS > l.Peak.RSS {
		l.Peak = end
	}
	return l, nil
}

// worker is one connection of the load; nothing in it is shared.
type worker struct {
	client *http.Client
	req    *http.Request
	// lat holds the latency of each successful timed request (a few
	// thousand per worker: less than a Histogram each).
	lat  []time.Duration
	errs map[string]int64
	// opened counts the connections the worker dialled, from its
	// client's trace: more than one when a connection died and a request
	// was retried on a new one (which the client does without an error).
	opened atomic.Int64
}

// newWorker returns a worker with a client of its own: one Transport, so
// one keep-alive connection, refusing every address outside the loopback
// range.
func newWorker(ctx context.Context, url, token string, timeout time.Duration) (*worker, error) {
	w := &worker{}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) {
		if !c.Reused {
			w.opened.Add(1)
		}
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := loadgen.NewClient(1, timeout, false)
	tr, ok := client.Transport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("loadgen.NewClient: transport %T, want *http.Transport", client.Transport)
	}
	// A request sent the moment the last answer was read waits for its
	// connection to be put back, instead of dialling a second one.
	tr.MaxConnsPerHost = 1
	// The client copies the request before changing anything of it, so
	// one serves every call.
	w.client, w.req = client, req
	return w, nil
}

// call makes one request; timed ones count towards the rate and the
// latencies.
func (w *worker) call(ctx context.Context, timed bool) {
	begin := time.Now()
	resp, err := w.client.Do(w.req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	lat := time.Since(begin)
	switch {
	case err != nil && ctx.Err() != nil:
		// Interrupted: not a result of the server.
	case err != nil:
		class := "transport"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			class = "timeout"
		}
		w.fail(class)
		select {
		case <-time.After(transportBackoff):
		case <-ctx.Done():
		}
	case resp.StatusCode != http.StatusOK:
		w.fail(strconv.Itoa(resp.StatusCode))
	case timed:
		w.lat = append(w.lat, lat)
	}
}

func (w *worker) fail(class string) {
	if w.errs == nil {
		w.errs = map[string]int64{}
	}
	w.errs[class]++
}

// sampler reads authd's memory and open files every interval until
// stopped.
type sampler struct {
	quit chan struct{}
	res  chan samples
}

// samples is what a sampler saw.
type samples struct {
	peak  Memory
	n     int
	files int
	err   error
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{quit: make(chan struct{}), res: make(chan samples, 1)}
	go func() {
		var r samples
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m, err := readMemory(pid)
			if err != nil {
				r.err = err
				s.res <- r
				return
			}
			r.n++
			if m.RSS > r.peak.RSS {
				r.peak = m
			}
			if f, err := openFiles(pid); err == nil {
				r.files = max(r.files, f)
			}
			select {
			case <-t.C:
			case <-s.quit:
				s.res <- r
				return
			}
		}
	}()
	return s
}

// stop ends the sampling and returns what it saw.
func (s *sampler) stop() samples {
	close(s.quit)
	return <-s.res
}

// setupPatience bounds the registration and login before the load: each
// costs authd a bcrypt, which its admission queue may defer (503 with
// Retry-After) on a busy machine. They are not measured.
const setupPatience = time.Minute

// accessToken registers a user with a random email and logs it in,
// returning its access token.
func accessToken(ctx context.Context, base string, timeout time.Duration) (string, error) {
	client := loadgen.NewClient(1, max(timeout, setupPatience), false)
	defer client.CloseIdleConnections()
	var b [8]byte
	_, _ = rand.Read(b[:])
	creds, err := json.Marshal(map[string]string{
		"email":    "fp" + hex.EncodeToString(b[:]) + "@authbench.test",
		"password": "pw-" + hex.EncodeToString(b[:]),
	})
	if err != nil {
		return "", err
	}
	giveUp := time.Now().Add(setupPatience)
	post := func(path string, want int) ([]byte, error) {
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(creds))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return nil, fmt.Errorf("POST %s: %w", path, err)
			}
			body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case err != nil:
				return nil, fmt.Errorf("POST %s: %w", path, err)
			case resp.StatusCode == want:
				return body, nil
			case (resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests) && time.Now().Before(giveUp):
				wait := time.Second
				if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
					wait = min(time.Duration(secs)*time.Second, 5*time.Second)
				}
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("POST %s: status %d: %.200s", path, resp.StatusCode, body)
			}
		}
	}
	if _, err := post("/v1/register", http.StatusCreated); err != nil {
		return "", err
	}
	body, err := post("/v1/login", http.StatusOK)
	if err != nil {
		return "", err
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Access == "" {
		return "", fmt.Errorf("POST /v1/login: no access token in %.200s", body)
	}
	return tok.Access, nil
}
