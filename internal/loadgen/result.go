package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Result is what one phase measured.
type Result struct {
	// Phase is the phase's name (a scenario, or "mixed").
	Phase string `json:"phase"`
	// Mix is the phase's weighted scenarios.
	Mix []Weight `json:"mix"`
	// Concurrency is the number of workers.
	Concurrency int `json:"concurrency"`
	// Elapsed is the phase's wall time, until its last request finished.
	Elapsed time.Duration `json:"-"`
	// ElapsedSeconds is Elapsed in seconds (for JSON).
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// Endpoints holds one entry per endpoint that saw a request, in the
	// order of Scenarios.
	Endpoints []EndpointResult `json:"endpoints"`
	// Relogins counts the unrecorded logins workers made to replace a
	// session a failed call had left dead.
	Relogins int64 `json:"relogins,omitempty"`
	// CPU is where the machine's CPU went during the phase (nil where
	// /proc cannot be read).
	CPU *CPUUsage `json:"cpu,omitempty"`
}

// EndpointResult is one endpoint's share of a phase. Latencies are those of
// successful requests, from sending to the last byte of the answer.
type EndpointResult struct {
	// Endpoint is the scenario name the endpoint is measured under.
	Endpoint Scenario `json:"endpoint"`
	// Method and Path name the HTTP endpoint.
	Method string `json:"method"`
	Path   string `json:"path"`
	// OK counts successful requests; Errors the others by class: an HTTP
	// status ("401"), "transport", "timeout" or "bad_body".
	OK     uint64           `json:"ok"`
	Errors map[string]int64 `json:"errors,omitempty"`
	// Rate is successful requests per second of the phase.
	Rate float64 `json:"ok_per_second"`
	// Latency percentiles and extremes of successful requests.
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// ErrorCount returns the number of failed requests.
func (e EndpointResult) ErrorCount() int64 {
	var n int64
	for _, c := range e.Errors {
		n += c
	}
	return n
}

// Endpoint returns the result of endpoint s, if it saw any request.
func (r *Result) Endpoint(s Scenario) (EndpointResult, bool) {
	for _, e := range r.Endpoints {
		if e.Endpoint == s {
			return e, true
		}
	}
	return EndpointResult{}, false
}

// ErrorCount returns the number of failed requests over every endpoint.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, e := range r.Endpoints {
		n += e.ErrorCount()
	}
	return n
}

// result merges the workers' records.
func (r *Runner) result(p Phase, elapsed time.Duration, workers []*worker) *Result {
	res := &Result{Phase: p.Name, Mix: p.Mix, Concurrency: len(workers), Elapsed: elapsed, ElapsedSeconds: elapsed.Seconds()}
	for ep := range numEndpoints {
		var h Histogram
		errs := map[string]int64{}
		for _, w := range workers {
			if s := w.stats[ep]; s.hist != nil {
				h.Merge(s.hist)
			}
			for k, v := range w.stats[ep].errs {
				errs[k] += v
			}
		}
		if h.Count() == 0 && len(errs) == 0 {
			continue
		}
		e := EndpointResult{
			Endpoint: endpoints[ep].name, Method: endpoints[ep].method, Path: endpoints[ep].path,
			OK: h.Count(), Rate: float64(h.Count()) / elapsed.Seconds(),
			P50: h.Quantile(0.50), P90: h.Quantile(0.90), P99: h.Quantile(0.99), Max: h.Max(), Mean: h.Mean(),
		}
		if len(errs) > 0 {
			e.Errors = errs
		}
		res.Endpoints = append(res.Endpoints, e)
	}
	for _, w := range workers {
		res.Relogins += w.relogins
	}
	return res
}

// progress prints a line every ProgressInterval until the returned
// function is called.
func (r *Runner) progress(phase string, start time.Time, live *liveCounters) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		var last [numEndpoints]int64
		lastAt := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				var b strings.Builder
				var ok, fail, delta int64
				var parts []string
				dt := now.Sub(lastAt).Seconds()
				for ep := range live {
					n := live[ep].ok.Load()
					ok += n
					fail += live[ep].err.Load()
					if d := n - last[ep]; d > 0 {
						delta += d
						parts = append(parts, fmt.Sprintf("%s %.0f/s", endpoints[ep].name, float64(d)/dt))
					}
					last[ep] = n
				}
				lastAt = now
				fmt.Fprintf(&b, "[%s %5.1fs] %d ok, %d errors, %.0f/s", phase, now.Sub(start).Seconds(), ok, fail, float64(delta)/dt)
				if len(parts) > 1 {
					b.WriteString(" (" + strings.Join(parts, ", ") + ")")
				}
				b.WriteByte('\n')
				_, _ = io.WriteString(r.cfg.Progress, b.String())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// WriteText writes results as a table per phase.
func WriteText(w io.Writer, results []*Result) error {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "phase %s: %d workers, %.1fs", r.Phase, r.Concurrency, r.Elapsed.Seconds())
		if r.Relogins > 0 {
			fmt.Fprintf(w, ", %d re-logins", r.Relogins)
		}
		fmt.Fprintln(w)
		if c := r.CPU; c != nil {
			fmt.Fprintf(w, "cpu: machine %.2f cores = server %.2f + authbench %.2f + other %.2f (steal %.2f)", c.Machine, c.Server, c.Self, c.Other, c.Steal)
			if c.ServerPerRequest > 0 {
				fmt.Fprintf(w, "; server %s CPU per request", FormatLatency(c.ServerPerRequest))
			}
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "endpoint\tok\tok/s\tp50\tp90\tp99\tmax\terrors\t")
		for _, e := range r.Endpoints {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", e.Endpoint, e.OK, e.Rate,
				FormatLatency(e.P50), FormatLatency(e.P90), FormatLatency(e.P99), FormatLatency(e.Max), formatErrors(e.Errors))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// FormatLatency prints a latency with three significant digits.
func FormatLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func formatErrors(errs map[string]int64) string {
	if len(errs) == 0 {
		return "0"
	}
	return JoinErrors(errs, " ")
}

// JoinErrors lists errors by class, sorted, as "class×count" separated by
// sep; it is "" when there are none.
func JoinErrors(errs map[string]int64, sep string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, errs[k]))
	}
	return strings.Join(parts, sep)
}
