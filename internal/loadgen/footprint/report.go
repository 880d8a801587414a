package footprint

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authd/authd/internal/loadgen"
)

// WriteText writes r for people: startup times, memory idle and under
// load, the load itself, and each figure against its target.
func WriteText(w io.Writer, r *Result) error {
	settings := "embedded default (no settings)"
	if len(r.Settings) > 0 {
		settings = "settings " + strings.Join(r.Settings, ", ")
	}
	fmt.Fprintf(w, "footprint of %s, %s; MB = 10^6 bytes\n\n", r.Binary, settings)
	fmt.Fprintf(w, "startup: exec to the first 200 from GET %s\n", ReadyPath)
	first, second := "first start (empty data dir)", "second start (same data dir)"
	if r.SharedState {
		first, second = "first start (empty database)", "second start (same database)"
	}
	for _, s := range []struct {
		name string
		st   Startup
	}{{first, r.FirstStart}, {second, r.SecondStart}} {
		runs := make([]string, len(s.st.Runs))
		for i, d := range s.st.Runs {
			runs[i] = formatMillis(d)
		}
		fmt.Fprintf(w, "  %-30s median %s, max %s  (runs %s)\n", s.name, formatMillis(s.st.Median), formatMillis(s.st.Max), strings.Join(runs, " "))
	}
	l := r.Load
	fmt.Fprintf(w, "\nmemory of authd (pid %d), from /proc/PID/status\n", r.PID)
	fmt.Fprintf(w, "  %-30s VmRSS %s\n", fmt.Sprintf("idle, %s after ready", r.IdleAfter), formatMemory(r.Idle))
	fmt.Fprintf(w, "  %-30s peak VmRSS %s; VmHWM %.1f MB (%d samples)\n", fmt.Sprintf("%d connections", l.Conns), formatMemory(l.Peak), megabytes(l.Peak.HWM), l.Samples)
	limit := "unlimited"
	if l.OpenFilesLimit >= 0 {
		limit = fmt.Sprint(l.OpenFilesLimit)
	}
	fmt.Fprintf(w, "\nload: GET %s, %d connections (%d opened), each one request at a time, %.1fs after a %s ramp\n",
		VerifyPath, l.Conns, l.Opened, l.Elapsed.Seconds(), l.Ramp.Round(time.Millisecond))
	fmt.Fprintf(w, "  %s ok/s, p50 %s, p99 %s, max %s, errors: %s\n", formatRate(l.Rate),
		loadgen.FormatLatency(l.P50), loadgen.FormatLatency(l.P99), loadgen.FormatLatency(l.Max), formatErrors(l.Errors))
	fmt.Fprintf(w, "  authd open files: peak %d, limit %s\n", l.OpenFiles, limit)
	if u := l.CPU; u != nil {
		fmt.Fprintf(w, "  cpu: authd %.2f + authbench %.2f + other %.2f cores; %s of authd CPU per request\n",
			u.Server, u.Self, u.Other, loadgen.FormatLatency(u.ServerPerRequest))
	}
	fmt.Fprintf(w, "\ntargets\n")
	var b strings.Builder
	if err := WriteChecks(&b, r.Checks); err != nil {
		return err
	}
	for line := range strings.Lines(b.String()) {
		fmt.Fprint(w, "  "+line)
	}
	return nil
}

func formatMemory(m Memory) string {
	return fmt.Sprintf("%.1f MB (anon %.1f, file %.1f)", megabytes(m.RSS), megabytes(m.Anon), megabytes(m.File))
}

func formatMillis(d time.Duration) string { return fmt.Sprintf("%.1fms", milliseconds(d)) }

func formatRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func formatErrors(errs map[string]int64) string {
	if len(errs) == 0 {
		return "none"
	}
	return loadgen.JoinErrors(errs, ", ")
}
