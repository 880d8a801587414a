// Package limits measures what the machine itself allows on authd's three
// hot paths, the yardsticks the targets of docs/benchmarks.md are ratios to:
//
//   - Bcrypt: CPUs ÷ the time of one bcrypt compare at the configured cost
//     (the most logins per second any server could answer);
//   - Rotation: the rate of the bare rotation transaction (BEGIN; SELECT …
//     FOR UPDATE; UPDATE; INSERT; COMMIT) on 16 connections to the same
//     Postgres, in a scratch schema it creates and drops;
//   - JWT: raw golang-jwt verification throughput for the signing algorithm
//     on every CPU.
//
// Each measurement is bounded in time and in count. It is meant to run on
// the machine under test while authd idles, right before the load, so that
// the limit and the result come from the same run. It is not a benchmark
// of authd's own code (the Go benchmarks are).
package limits

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Check compares a measured rate with its limit.
type Check struct {
	// Name is what was measured ("login", "refresh", "verify").
	Name string `json:"name"`
	// Measured is authd's rate, per second.
	Measured float64 `json:"measured_per_second"`
	// Bound is the limit's rate, per second; 0 when it was not measured.
	Bound float64 `json:"bound_per_second"`
	// Basis says how Bound was obtained, for the report.
	Basis string `json:"basis"`
	// Target is the ratio a run must reach to count as met (the targets
	// of docs/benchmarks.md).
	Target float64 `json:"target"`
	// ServerCPU is the server's CPU time per successful request and
	// BoundCPU the limit's CPU time per operation, when both were
	// measured: their ratio shows how close the server comes on CPU alone,
	// whatever the load tool and other processes took of the machine.
	ServerCPU time.Duration `json:"server_cpu_per_request_ns,omitempty"`
	BoundCPU  time.Duration `json:"bound_cpu_per_op_ns,omitempty"`
	// Other is the most CPU, in cores, that other processes took while
	// the rate or its bound was measured; above NoisyCores the ratio says
	// more about the neighbours than about the server.
	Other float64 `json:"other_cores,omitempty"`
}

// NoisyCores is the share of the machine other processes may take before
// WriteChecks flags a ratio as disturbed.
const NoisyCores = 0.2

// perSecond returns n ÷ d per second; 0 when d is not positive (not
// measured), so that a bound never divides by zero.
func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// CPURatio returns BoundCPU ÷ ServerCPU (0 unless both are known).
func (c Check) CPURatio() float64 {
	if c.ServerCPU <= 0 || c.BoundCPU <= 0 {
		return 0
	}
	return float64(c.BoundCPU) / float64(c.ServerCPU)
}

// Ratio returns Measured ÷ Bound (0 without a bound).
func (c Check) Ratio() float64 {
	if c.Bound <= 0 {
		return 0
	}
	return c.Measured / c.Bound
}

// Met reports whether the ratio reaches the target.
func (c Check) Met() bool { return c.Bound > 0 && c.Ratio() >= c.Target }

// WriteChecks writes one line per check:
//
//	login  7.1/s  bound 2 CPUs ÷ 260ms (bcrypt cost 12) = 7.69/s  ratio 0.92 (target ≥0.9) met
func WriteChecks(w io.Writer, checks []Check) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		if c.Bound <= 0 {
			fmt.Fprintf(tw, "%s\t%s/s\tbound not measured (%s)\t\t\t\n", c.Name, FormatRate(c.Measured), c.Basis)
			continue
		}
		verdict := "below target"
		if c.Met() {
			verdict = "met"
		}
		if c.Other > NoisyCores {
			verdict += fmt.Sprintf(" (noisy: other processes took %.2f cores)", c.Other)
		}
		cpu := ""
		if c.CPURatio() > 0 {
			cpu = fmt.Sprintf("CPU/request %s vs %s: %.2f", formatDuration(c.ServerCPU), formatDuration(c.BoundCPU), c.CPURatio())
		}
		fmt.Fprintf(tw, "%s\t%s/s\tbound %s = %s/s\tratio %.2f (target ≥%.1f)\t%s\t%s\n",
			c.Name, FormatRate(c.Measured), c.Basis, FormatRate(c.Bound), c.Ratio(), c.Target, verdict, cpu)
	}
	return tw.Flush()
}

// formatDuration prints d with three significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}

// FormatRate prints a rate with about three significant digits.
func FormatRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}
