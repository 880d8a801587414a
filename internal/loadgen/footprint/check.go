package footprint

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// The targets for the embedded default (docs/benchmarks.md). MB are 10^6 bytes.
const (
	IdleRSSLimit = 30_000_000  // bytes of VmRSS, idle
	LoadRSSLimit = 100_000_000 // bytes of VmRSS, under 1,000 connections
	StartLimit   = 300 * time.Millisecond
)

// Check compares a measured figure with its limit; lower is better.
type Check struct {
	// Name says what was measured ("idle RSS", "first start, median").
	Name string `json:"name"`
	// Measured and Limit are in Unit ("MB", "ms").
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit"`
	// Ratio is Measured ÷ Limit; Met is Ratio ≤ 1.
	Ratio float64 `json:"ratio"`
	Met   bool    `json:"met"`
}

func newCheck(name string, measured, limit float64, unit string) Check {
	c := Check{Name: name, Measured: measured, Limit: limit, Unit: unit}
	if limit > 0 {
		c.Ratio = measured / limit
		c.Met = measured <= limit
	}
	return c
}

func megabytes(b int64) float64            { return float64(b) / 1e6 }
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checks compares r with the targets.
func checks(r *Result) []Check {
	return []Check{
		newCheck("idle RSS", megabytes(r.Idle.RSS), megabytes(IdleRSSLimit), "MB"),
		newCheck(fmt.Sprintf("peak RSS, %d connections", r.Load.Conns), megabytes(r.Load.Peak.RSS), megabytes(LoadRSSLimit), "MB"),
		newCheck("first start, median", milliseconds(r.FirstStart.Median), milliseconds(StartLimit), "ms"),
		newCheck("first start, max", milliseconds(r.FirstStart.Max), milliseconds(StartLimit), "ms"),
		newCheck("second start, median", milliseconds(r.SecondStart.Median), milliseconds(StartLimit), "ms"),
		newCheck("second start, max", milliseconds(r.SecondStart.Max), milliseconds(StartLimit), "ms"),
	}
}

// WriteChecks writes one line per check:
//
//	idle RSS  18.2 MB / limit 30 MB = 0.61 (met)
func WriteChecks(w io.Writer, checks []Check) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		verdict := "above the limit"
		if c.Met {
			verdict = "met"
		}
		fmt.Fprintf(tw, "%s\t%.1f %s / limit %g %s\t= %.2f (%s)\n", c.Name, c.Measured, c.Unit, c.Limit, c.Unit, c.Ratio, verdict)
	}
	return tw.Flush()
}
