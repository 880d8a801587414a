package footprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/authd/authd/internal/loadgen"
)

// ReadyPath is authd's readiness endpoint: 200 once it can serve.
const ReadyPath = "/readyz"

// stopGrace is how long a stopped authd has to exit after SIGTERM before it
// is killed: less than the 5 s scripts/bench-lib.sh gives authbench itself.
const stopGrace = 3 * time.Second

// process is one authd started by Measure.
type process struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	pprof   string // http://127.0.0.1:port of /debug/pprof/, or ""
	done    chan struct{}
	waitErr error // valid once done is closed
}

// pid returns the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended, without waiting.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits for the exit (killing the process after
// stopGrace), and returns an error unless authd stopped cleanly.
func (p *process) stop() error {
	if p == nil {
		return nil
	}
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("authd (pid %d) did not stop within %s of SIGTERM: killed", p.pid(), stopGrace)
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("authd (pid %d): %w", p.pid(), p.waitErr)
	}
	return nil
}

// starter starts authd processes for Measure.
type starter struct {
	cfg     Config
	log     *os.File // authd's stdout and stderr
	pprof   bool
	environ []string // inherited environment without AUTHD_*
}

func newStarter(cfg Config, log *os.File) *starter {
	var env []string
	for _, kv := range os.Environ() {
		// The measurement is of the settings given, not of whatever
		// AUTHD_* the caller's shell holds.
		if !strings.HasPrefix(kv, "AUTHD_") {
			env = append(env, kv)
		}
	}
	return &starter{cfg: cfg, log: log, pprof: cfg.HeapProfiles != "", environ: env}
}

// start starts authd on dataDir and a free loopback port and returns it
// once GET /readyz has answered 200, with the wall time from exec to that
// answer.
func (s *starter) start(ctx context.Context, dataDir string) (*process, time.Duration, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, 0, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	env := append(s.environ[:len(s.environ):len(s.environ)],
		"AUTHD_ADDR="+addr,
		"AUTHD_DATA_DIR="+dataDir,
		// The default (127.0.0.1:9090) is a fixed port; the
		// same listener on a free loopback port costs the same.
		"AUTHD_METRICS_ADDR=127.0.0.1:"+strconv.Itoa(ports[1]),
		// Every request comes from 127.0.0.1, which per-IP limits would
		// stop.
		"AUTHD_RATELIMIT_ENABLED=false",
	)
	p := &process{base: "http://" + addr, done: make(chan struct{})}
	if s.pprof {
		pa := "127.0.0.1:" + strconv.Itoa(ports[2])
		env = append(env, "AUTHD_PPROF_ADDR="+pa)
		p.pprof = "http://" + pa
	}
	env = append(env, s.cfg.Env...)

	target, err := loadgen.ValidateTarget(ctx, p.base, false, nil)
	if err != nil {
		return nil, 0, err
	}
	readyURL := target.String() + ReadyPath
	client := loadgen.NewClient(1, time.Second, false)
	defer client.CloseIdleConnections()

	cmd := exec.Command(s.cfg.Binary)
	cmd.Env = env
	cmd.Dir = dataDir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	p.cmd = cmd
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", s.cfg.Binary, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	fail := func(err error) (*process, time.Duration, error) {
		_ = p.stop()
		return nil, 0, fmt.Errorf("%w%s", err, logTail(s.log))
	}

	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		if ready(ctx, client, readyURL) {
			return p, time.Since(begin), nil
		}
		if time.Since(begin) > s.cfg.ReadyTimeout {
			return fail(fmt.Errorf("authd (pid %d) not ready after %s", p.pid(), s.cfg.ReadyTimeout))
		}
		select {
		case <-tick.C:
		case <-p.done:
			return fail(fmt.Errorf("authd exited before it was ready: %v", p.waitErr))
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}

// ready reports whether GET url answers 200.
func ready(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freePorts returns n loopback TCP ports nothing listened on a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// logTail returns the end of authd's log, to explain a failure.
func logTail(f *os.File) string {
	const n = 2048
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, min(st.Size(), n))
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return "; authd's log ends with:\n" + s
}
