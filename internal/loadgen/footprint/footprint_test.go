package footprint_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/internal/app/apptest"
	"github.com/authd/authd/internal/loadgen/footprint"
	"github.com/authd/authd/internal/testenv"
)

func TestMain(m *testing.M) { apptest.Main(m) }

// authd returns the binary to measure and the settings it needs in a
// test: a cheap bcrypt and a patient bcrypt queue (bcrypt is slow under
// the race detector).
func authd(t *testing.T) (string, []string) {
	t.Helper()
	env := []string{"AUTHD_BCRYPT_COST=10", "AUTHD_BCRYPT_MAX_WAIT=30s", "AUTHD_LOG_LEVEL=warn"}
	if bin := os.Getenv("AUTHBENCH_AUTHD_BIN"); bin != "" {
		return bin, env
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin, append(env, apptest.ServeEnv+"=1")
}

// TestMeasure runs the whole measurement on a small scale against a real
// authd: every start is timed and reaches ready, memory is read idle and
// under load, every connection is opened once and kept alive, no request
// fails, and nothing is left running or on disk.
func TestMeasure(t *testing.T) {
	bin, env := authd(t)
	work := t.TempDir()
	heap := filepath.Join(t.TempDir(), "heap")
	var progress bytes.Buffer
	const conns = 50
	r, err := footprint.Measure(context.Background(), footprint.Config{
		Binary: bin, Env: env, Starts: 2, Idle: 200 * time.Millisecond,
		Conns: conns, Duration: 500 * time.Millisecond, Sample: 25 * time.Millisecond,
		WorkDir: work, HeapProfiles: heap, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, s := range []struct {
		name string
		st   footprint.Startup
	}{{"first", r.FirstStart}, {"second", r.SecondStart}} {
		if len(s.st.Runs) != 2 {
			t.Errorf("%s start: %d runs, want 2", s.name, len(s.st.Runs))
		}
		for _, d := range s.st.Runs {
			if d <= 0 || d > 30*time.Second || d > s.st.Max {
				t.Errorf("%s start: run %s (max %s)", s.name, d, s.st.Max)
			}
		}
		if s.st.Median <= 0 || s.st.Median > s.st.Max {
			t.Errorf("%s start: median %s, max %s", s.name, s.st.Median, s.st.Max)
		}
	}

	const mb = 1 << 20
	// VmHWM is at least VmRSS when both are read at once.
	if m := r.Idle; m.RSS < mb || m.RSS > 4<<30 || m.HWM < m.RSS || m.Anon <= 0 || m.File <= 0 || m.Anon+m.File > m.RSS+mb {
		t.Errorf("idle memory %+v", m)
	}
	l := r.Load
	// Each worker dials its own connection and keeps it: a rare retry on a
	// new one aside (see Load.Opened), no more connections than workers,
	// and many requests on each.
	if l.Conns != conns || l.Opened < conns || l.Opened > conns+conns/10 {
		t.Errorf("load: %d connections, %d opened; want %d kept alive", l.Conns, l.Opened, conns)
	}
	if l.ErrorCount() != 0 || l.OK < 4*uint64(l.Opened) || l.Rate <= 0 {
		t.Errorf("load: %d ok (%.0f/s) on %d connections, errors %v", l.OK, l.Rate, l.Opened, l.Errors)
	}
	if l.Elapsed < 500*time.Millisecond || l.Elapsed > 20*time.Second {
		t.Errorf("load: elapsed %s for a 0.5s load", l.Elapsed)
	}
	if l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("load: latencies out of order: %s %s %s", l.P50, l.P99, l.Max)
	}
	// (VmHWM is updated lazily by the kernel: it may lag a sample.)
	if l.Samples < 10 || l.Peak.RSS < mb || l.Peak.HWM < mb {
		t.Errorf("load memory: %d samples, peak %+v, idle %+v", l.Samples, l.Peak, r.Idle)
	}
	if l.OpenFiles < conns || (l.OpenFilesLimit >= 0 && l.OpenFilesLimit < conns) {
		t.Errorf("authd held %d files at most (limit %d): the connections were not all open at once", l.OpenFiles, l.OpenFilesLimit)
	}

	if len(r.Checks) != 6 {
		t.Fatalf("%d checks: %+v", len(r.Checks), r.Checks)
	}
	idle := r.Checks[0]
	if idle.Name != "idle RSS" || idle.Limit != 30 || idle.Unit != "MB" ||
		idle.Measured != float64(r.Idle.RSS)/1e6 || idle.Ratio != idle.Measured/30 || idle.Met != (idle.Measured <= 30) {
		t.Errorf("idle check %+v for %d bytes", idle, r.Idle.RSS)
	}
	if c := r.Checks[2]; c.Name != "first start, median" || c.Limit != 300 || c.Measured != float64(r.FirstStart.Median)/1e6 {
		t.Errorf("first start check %+v for %s", c, r.FirstStart.Median)
	}

	// Everything stopped and removed.
	if err := syscall.Kill(r.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("authd pid %d still there after Measure: %v", r.PID, err)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("left behind in the work dir: %v", left)
	}
	for _, name := range []string{"idle", "load"} {
		b, err := os.ReadFile(filepath.Join(heap, name+".heap.pb.gz"))
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s heap profile: not gzip (%d bytes, %v)", name, len(b), err)
		}
	}

	var text bytes.Buffer
	if err := footprint.WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first start (empty data dir)", "second start (same data dir)", "idle RSS", "peak RSS, 50 connections",
		"/ limit 30 MB", "/ limit 300 ms", "errors: none"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(progress.String(), "footprint: second start 2/2: ready in") {
		t.Errorf("progress: %q", progress.String())
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back footprint.Result
	if err := json.Unmarshal(b, &back); err != nil || back.Idle != r.Idle || len(back.Checks) != 6 || back.Load.Opened != conns {
		t.Errorf("JSON round trip: %v\n%s", err, b)
	}
}

// TestMeasureSharedState checks that with a database outside the data dir
// (a fresh Postgres schema) only the first start counts as one on empty
// state.
func TestMeasureSharedState(t *testing.T) {
	bin, env := authd(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env = append(env, "AUTHD_DATABASE_URL="+testenv.Postgres(t), "AUTHD_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	r, err := footprint.Measure(context.Background(), footprint.Config{Binary: bin, Env: env,
		Starts: 2, Idle: 10 * time.Millisecond, Conns: 5, Duration: 100 * time.Millisecond, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.SharedState || len(r.FirstStart.Runs) != 1 || len(r.SecondStart.Runs) != 2 {
		t.Fatalf("shared %v, %d first and %d second starts; want true, 1 and 2", r.SharedState, len(r.FirstStart.Runs), len(r.SecondStart.Runs))
	}
	var text bytes.Buffer
	if err := footprint.WriteText(&text, r); err != nil || !strings.Contains(text.String(), "first start (empty database)") {
		t.Fatalf("%v:\n%s", err, text.String())
	}
}

// TestMeasureStopsOnCancel checks that a cancelled measurement returns an
// error promptly and leaves no authd running.
func TestMeasureStopsOnCancel(t *testing.T) {
	bin, env := authd(t)
	work := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var progress lineWriter
	progress.onLine = func(line string) {
		if strings.Contains(line, "footprint: load:") {
			time.AfterFunc(200*time.Millisecond, cancel) // in the middle of the load
		}
	}
	start := time.Now()
	_, err := footprint.Measure(ctx, footprint.Config{Binary: bin, Env: env, Starts: 1, Idle: 10 * time.Millisecond,
		Conns: 20, Duration: time.Minute, WorkDir: work, Progress: &progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %s to stop", d)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if pids, ok := children(); !ok {
		t.Log("no /proc/self/task/*/children: cannot check that authd stopped")
	} else if len(pids) != 0 {
		t.Errorf("authd still running: pids %v", pids)
	}
}

// lineWriter calls onLine with each line written (Measure writes its
// progress from one goroutine, a line at a time).
type lineWriter struct {
	onLine func(string)
}

func (b *lineWriter) Write(p []byte) (int, error) {
	b.onLine(string(p))
	return len(p), nil
}

// children returns the pids of this process's live children, and false
// where the kernel does not list them.
func children() ([]string, bool) {
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(tasks) == 0 {
		return nil, false
	}
	var pids []string
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			return nil, false
		}
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids, true
}

func TestMeasureRefusesBadConfig(t *testing.T) {
	bin, _ := authd(t)
	tests := []struct {
		name string
		cfg  footprint.Config
		want string
	}{
		{"no binary", footprint.Config{}, "no authd binary"},
		{"missing binary", footprint.Config{Binary: filepath.Join(t.TempDir(), "nope")}, "not a file"},
		{"too many connections", footprint.Config{Binary: bin, Conns: footprint.MaxConns + 1}, "connections"},
		{"negative starts", footprint.Config{Binary: bin, Starts: -1}, "starts"},
		{"too long", footprint.Config{Binary: bin, Duration: 2 * footprint.MaxDuration}, "duration"},
		{"address set", footprint.Config{Binary: bin, Env: []string{"AUTHD_ADDR=0.0.0.0:80"}}, "AUTHD_ADDR"},
		{"data dir set", footprint.Config{Binary: bin, Env: []string{"AUTHD_DATA_DIR=/"}}, "AUTHD_DATA_DIR"},
		{"not a setting", footprint.Config{Binary: bin, Env: []string{"AUTHD_LOG_LEVEL"}}, "KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := footprint.Measure(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestMeasureReportsAFailedStart checks that a binary that exits at once
// is an error quoting its output, not a hang.
func TestMeasureReportsAFailedStart(t *testing.T) {
	bin, env := authd(t)
	_, err := footprint.Measure(context.Background(), footprint.Config{Binary: bin, Env: append(env, "AUTHD_BCRYPT_COST=99"),
		WorkDir: t.TempDir(), ReadyTimeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "AUTHD_BCRYPT_COST") {
		t.Fatalf("err %v", err)
	}
}
