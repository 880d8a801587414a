// Package apptest lets a test binary stand in for the authd binary: tests
// that start authd as a process (to time its start or read its memory)
// re-run their own executable with ServeEnv=1 instead of building
// cmd/authd. For tests only.
package apptest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
)

// ServeEnv, set to 1 in a test binary's environment, makes Main serve
// authd instead of running the tests.
const ServeEnv = "AUTHD_TEST_SERVE"

// Main is a TestMain: with ServeEnv=1 it serves authd as cmd/authd's serve
// does (settings from AUTHD_*, until SIGTERM) and exits; otherwise it runs
// the tests.
func Main(m *testing.M) {
	if os.Getenv(ServeEnv) != "1" {
		os.Exit(m.Run())
	}
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "authd:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serve() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.FromEnvironment("")
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}
