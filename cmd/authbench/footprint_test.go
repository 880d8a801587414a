package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authd/authd/internal/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }

// TestFootprint runs authbench -footprint on a small scale against a real
// authd and checks the text and JSON reports.
func TestFootprint(t *testing.T) {
	args := []string{"-footprint", "-footprint-starts", "1", "-footprint-idle", "100ms",
		"-footprint-conns", "30", "-footprint-duration", "300ms", "-quiet",
		"-authd-env", "AUTHD_BCRYPT_COST=10", "-authd-env", "AUTHD_BCRYPT_MAX_WAIT=30s"}
	if bin := os.Getenv("AUTHBENCH_AUTHD_BIN"); bin != "" {
		args = append(args, "-authd-bin", bin)
	} else {
		bin, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-authd-bin", bin, "-authd-env", apptest.ServeEnv+"=1")
	}
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "footprint.json")
	logPath := filepath.Join(dir, "authd.log")
	args = append(args, "-json-out", jsonPath, "-authd-log", logPath)

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{"authbench: footprint, ", "first start (empty data dir)", "30 connections (30 opened)",
		"errors: none", "\ntargets\n", "idle RSS", "/ limit 30 MB", "peak RSS, 30 connections", "/ limit 100 MB", "second start, max"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("-quiet, yet stderr: %s", stderr.String())
	}

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Phases    []any `json:"phases"`
		Footprint struct {
			Idle struct {
				RSS int64 `json:"rss_bytes"`
			} `json:"idle"`
			Load struct {
				Conns  int              `json:"connections"`
				OK     uint64           `json:"ok"`
				Errors map[string]int64 `json:"errors"`
			} `json:"load"`
			Checks []struct {
				Name     string  `json:"name"`
				Measured float64 `json:"measured"`
				Limit    float64 `json:"limit"`
				Ratio    float64 `json:"ratio"`
				Met      bool    `json:"met"`
			} `json:"checks"`
		} `json:"footprint"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	fp := rep.Footprint
	if rep.Phases != nil || fp.Idle.RSS <= 0 || fp.Load.Conns != 30 || fp.Load.OK == 0 || len(fp.Load.Errors) != 0 || len(fp.Checks) != 6 {
		t.Fatalf("JSON report: %s", b)
	}
	for _, c := range fp.Checks {
		if c.Limit <= 0 || c.Measured <= 0 || c.Ratio != c.Measured/c.Limit || c.Met != (c.Ratio <= 1) {
			t.Errorf("check %+v", c)
		}
	}
	if st, err := os.Stat(logPath); err != nil || st.Size() == 0 {
		t.Errorf("-authd-log: %v", err)
	}
}
