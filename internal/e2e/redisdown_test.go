package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/testenv"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// privateRedis starts a redis-server of the test's own on a spare port, so
// it can be stopped without touching the shared one.
func privateRedis(t *testing.T) (url string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.RequireServices() {
			t.Fatalf("redis-server binary required: %v", err)
		}
		t.Skipf("skipping: no redis-server binary (%v)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("private redis did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "redis://" + addr + "/0", stop
}

// privateRedisConfig is the test config on Postgres and a private Redis;
// stopRedis kills that Redis.
func privateRedisConfig(t *testing.T) (cfg config.Config, stopRedis func()) {
	t.Helper()
	cfg = testConfig()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = testenv.Postgres(t)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	cfg.RedisURL, stopRedis = privateRedis(t)
	return cfg, stopRedis
}

func TestLogoutAnswers503WhenRedisIsDown(t *testing.T) {
	cfg, stopRedis := privateRedisConfig(t)
	s := start(t, cfg, newClock())
	tk := s.signedUp("liam@example.com")
	if r := s.get("/v1/me", tk.AccessToken); r.Status != 200 {
		t.Fatalf("me: %d", r.Status)
	}

	stopRedis()

	r := s.logout(tk.AccessToken, "")
	// The verifier cannot check the denylist either: FailClosed is 503, so
	// the client keeps its tokens and retries instead of being logged out.
	r.wantError(t, 503, "temporarily_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if !strings.Contains(scrape(t, s), `authd_dependency_errors_total{dependency="denylist"}`) {
		t.Fatal("the denylist failure was not counted")
	}
	rd := s.get("/readyz", "")
	if rd.Status != 503 || !bytes.Contains(rd.Body, []byte("denylist")) {
		t.Fatalf("readyz with Redis down: %d %s", rd.Status, rd.Body)
	}
}
