// Command authdprof runs authd in-process, configured exactly as authd
// serve is (AUTHD_* variables, optional -config file), with the runtime
// profiles served on a loopback address by default (-pprof sets
// AUTHD_PPROF_ADDR, which authd serves itself), used to profile authd
// under authbench's load.
//
//	authdprof -pprof 127.0.0.1:6060 &
//	authbench -scenario refresh -duration 15s &
//	go tool pprof -top -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
//
// With -cpuprofile it also writes a CPU profile of its whole life to a
// file when it stops (SIGINT or SIGTERM). It is a benchmarking aid, not a
// way to run authd in production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	rpprof "runtime/pprof"
	"syscall"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "authdprof: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("authdprof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("AUTHD_CONFIG"), "optional YAML config file (AUTHD_* variables override it)")
	pprofDefault := os.Getenv("AUTHDPROF_PPROF_ADDR")
	if pprofDefault == "" {
		pprofDefault = "127.0.0.1:6060"
	}
	pprofAddr := fs.String("pprof", pprofDefault, "loopback address of the /debug/pprof/ endpoint, empty for none (default $AUTHDPROF_PPROF_ADDR or 127.0.0.1:6060)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnvironment(*configPath)
	if err != nil {
		return err
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv}))

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := rpprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer rpprof.StopCPUProfile()
	}
	if *pprofAddr != "" {
		if err := checkLoopback(*pprofAddr); err != nil {
			return fmt.Errorf("-pprof: %w", err)
		}
		cfg.PprofAddr = *pprofAddr
	}

	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("AUTHD_ADDR: %w", err)
	}
	log.Info("authd listening", slog.String("addr", ln.Addr().String()))
	return a.Serve(ctx, ln)
}

// checkLoopback accepts only a loopback IP and port: the profiles show the
// process's internals and must not leave the machine.
func checkLoopback(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	if !ap.Addr().IsLoopback() {
		return errors.New(addr + " is not a loopback address")
	}
	return nil
}
