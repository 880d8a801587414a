package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"

	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles cmd/authd once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: no go command to build the binary (%v)", err)
	}
	out := filepath.Join(t.TempDir(), "authd")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/authd/authd/cmd/authd")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBinary runs the real authd binary on the embedded default with only
// AUTHD_* variables, walks the README's flow, then stops it with SIGTERM.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"AUTHD_ADDR="+addr, "AUTHD_DATA_DIR="+dir, "AUTHD_BCRYPT_COST=10", "AUTHD_LOG_FORMAT=json",
		"AUTHD_DATABASE_URL=", "AUTHD_REDIS_URL=", "AUTHD_MASTER_KEY=", "AUTHD_METRICS_ADDR="+metricsAddr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })

	s := &server{t: t, URL: "http://" + addr}
	waitListening(t, addr)

	tk := s.signedUp("mia@example.com")
	if r := s.get("/v1/me", tk.AccessToken); r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err != nil {
		t.Fatalf("master key not generated in the data dir: %v", err)
	}
	// A gateway's successful check is logged at debug level, a refused one
	// at info (checked in the logs below).
	if r := s.get("/v1/verify", tk.AccessToken); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if r := s.get("/v1/verify", "not-a-token"); r.Status != 401 {
		t.Fatalf("verify of garbage: %d %s", r.Status, r.Body)
	}
	if r := s.logout(tk.AccessToken, ""); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if resp, err := http.Get("http://" + metricsAddr + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %v", err)
	} else {
		resp.Body.Close()
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("authd exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("authd did not stop on SIGTERM")
	}
	// Nothing secret reached the logs.
	var all strings.Builder
	for l := range logs {
		all.WriteString(l + "\n")
	}
	for _, secret := range []string{"correct horse battery", tk.AccessToken, tk.RefreshToken} {
		if strings.Contains(all.String(), secret) {
			t.Fatalf("logs contain a secret (%.12s…)", secret)
		}
	}
	if !strings.Contains(all.String(), "authd listening") {
		t.Fatalf("no start-up line in logs:\n%s", all.String())
	}
	logged := map[string]bool{} // "route status" of every access log line
	for _, l := range strings.Split(all.String(), "\n") {
		var line struct {
			Msg    string `json:"msg"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "request" {
			logged[fmt.Sprintf("%s %d", line.Route, line.Status)] = true
		}
	}
	for want, present := range map[string]bool{"/v1/me 200": true, "/v1/verify 401": true, "/v1/verify 200": false} {
		if logged[want] != present {
			t.Errorf("access log line for %q: present %v, want %v (lines: %v)", want, logged[want], present, logged)
		}
	}

	// The audit trail was written before the process exited.
	tail := exec.Command(bin, "audit", "tail", "-n", "10")
	tail.Env = cmd.Env
	out, err := tail.CombinedOutput()
	if err != nil {
		t.Fatalf("audit tail: %v\n%s", err, out)
	}
	for _, typ := range []string{"register", "login", "logout"} {
		if !strings.Contains(string(out), typ) {
			t.Fatalf("audit tail has no %s event:\n%s", typ, out)
		}
	}
}

func TestBinaryRejectsBadConfig(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "config", "check")
	cmd.Env = append(os.Environ(), "AUTHD_ACCESS_TTL=soon", "AUTHD_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("bad config accepted:\n%s", out)
	}
	if !strings.Contains(string(out), `AUTHD_ACCESS_TTL: "soon" is not a duration`) {
		t.Fatalf("error does not name the variable:\n%s", out)
	}
}

// TestBinaryReloadsKeysOnHangup: `authd keys revoke` is a process of its
// own, so the serving binary (reloading keys only every hour here) learns
// of the revocation when it gets SIGHUP, at once rather than at its next
// reload.
func TestBinaryReloadsKeysOnHangup(t *testing.T) {
	dir := t.TempDir()
	c := newEmbeddedCLI(t, dir)
	addr := freeAddr(t)
	cmd := exec.Command(c.bin)
	cmd.Env = append(append([]string(nil), c.env...), "AUTHD_ADDR="+addr, "AUTHD_KEY_RELOAD_INTERVAL=1h")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	s := &server{t: t, URL: "http://" + addr}
	waitListening(t, addr)

	tk := s.signedUp("hup@example.com")
	kid := kidOf(t, tk.AccessToken)
	if st := s.verifyStatus(tk.AccessToken); st != http.StatusOK {
		t.Fatalf("before: /v1/verify %d", st)
	}
	c.mustRun("", "keys", "revoke", kid)
	// Without the signal the server would accept the token for up to an hour.
	if st := s.verifyStatus(tk.AccessToken); st != http.StatusOK {
		t.Fatalf("the server refused the token before it reloaded: %d", st)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	took := s.waitRefused(tk.AccessToken, 5*time.Second)
	t.Logf("refused %v after SIGHUP", took.Round(time.Millisecond))
	for _, k := range s.jwksKids() {
		if k == kid {
			t.Fatalf("revoked kid %s still in the JWKS after SIGHUP", kid)
		}
	}
	// The process is still serving: SIGHUP did not end it.
	if r := s.get("/healthz", ""); r.Status != http.StatusOK {
		t.Fatalf("healthz after SIGHUP: %d", r.Status)
	}
}
