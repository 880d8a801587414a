// Command authd issues and verifies JWTs for mobile apps, services and API
// gateways. Run with no arguments it serves on the embedded default (SQLite
// in ./data and an in-process denylist).
//
// Usage:
//
//	authd [--config FILE] [serve]        run the server (default)
//	authd [--config FILE] migrate        apply database migrations and exit
//	authd [--config FILE] keys rotate [--now]  rotate in a new signing key
//	authd [--config FILE] keys revoke KID  distrust a signing key at once
//	authd [--config FILE] keys list      list signing keys
//	authd [--config FILE] users create EMAIL   (password on standard input)
//	authd [--config FILE] users disable|enable EMAIL
//	authd [--config FILE] users import FILE [--format jsonl|csv]
//	authd [--config FILE] users export [--format jsonl]  (to standard output)
//	authd [--config FILE] users grant|revoke EMAIL ROLE
//	authd [--config FILE] clients create NAME [--scope S]... [--audience A]...
//	authd [--config FILE] clients list|rotate-secret ID [--grace D]|disable|enable|delete ID
//	authd [--config FILE] audit tail [-n N] [--user ID]  print recent audit events
//	authd [--config FILE] config check   validate the configuration and exit
//	authd version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("authd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("AUTHD_CONFIG"), "optional YAML config file (env AUTHD_* overrides it)")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd := &command{configPath: *configPath, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	err := cmd.dispatch(ctx, fs.Args())
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "authd: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "authd: %v\n", err)
		return 1
	}
}

const usage = `usage:
  authd [--config FILE] [serve]            run the server (default)
  authd [--config FILE] migrate            apply database migrations and exit
  authd [--config FILE] keys rotate [--now] rotate in a new signing key (--now: sign with it at once, revoke the keys it replaces)
  authd [--config FILE] keys revoke KID    distrust a signing key at once (a new one signs if it was signing)
  authd [--config FILE] keys list          list signing keys, revoked ones included
  authd [--config FILE] users create EMAIL  create a user; the password is read from standard input
  authd [--config FILE] users disable EMAIL disable a user and end every session at once
  authd [--config FILE] users enable EMAIL  let a disabled user log in again
  authd [--config FILE] users import FILE [--format jsonl|csv]
                                            import users with their bcrypt hashes (idempotent)
  authd [--config FILE] users export [--format jsonl]
                                            write every user (with hash) to standard output, as import reads
  authd [--config FILE] users grant|revoke EMAIL ROLE
  authd [--config FILE] clients create NAME [--scope S]... [--audience A]...
                                            create a service client; prints {"client_id","client_secret",...} (JSON only)
  authd [--config FILE] clients list       list service clients (JSON lines, no secrets)
  authd [--config FILE] clients rotate-secret ID [--grace 24h]
                                            new secret (JSON); the old one works for the grace
  authd [--config FILE] clients disable|enable|delete ID
                                            disable and delete refuse the client's tokens at once
  authd [--config FILE] audit tail [-n N] [--user ID]
                                            print the newest audit events, oldest first
  authd [--config FILE] denylist rebuild   write every live revocation of the store to the denylist again
  authd [--config FILE] config check       validate the configuration and exit
  authd version
Settings come from AUTHD_* environment variables; see config/authd.example.yaml.
`

type command struct {
	configPath     string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (c *command) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.serve(ctx)
	}
	switch args[0] {
	case "serve":
		return c.serve(ctx)
	case "migrate":
		return c.migrate(ctx)
	case "keys":
		return c.keys(ctx, args[1:])
	case "user", "users":
		return c.users(ctx, args[1:])
	case "client", "clients":
		return c.clients(ctx, args[1:])
	case "audit":
		return c.audit(ctx, args[1:])
	case "denylist":
		return c.denylist(ctx, args[1:])
	case "config":
		if len(args) == 2 && args[1] == "check" {
			return c.configCheck()
		}
		return fmt.Errorf("%w: config check", errUsage)
	case "version":
		fmt.Fprintln(c.stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// newLogger logs JSON unless format is text, or auto on a terminal.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" || (format == "auto" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
