package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// PGServer is a Postgres server of a test's own, on a spare loopback port,
// that the test may stop and start (the shared one on 5432 is never
// touched).
type PGServer struct {
	bin, data, sock, logFile string
	port                     int
	asPostgres               bool
}

// URL is the DSN of the server's postgres database.
func (p *PGServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", p.port)
}

// pgBinDir returns the newest /usr/lib/postgresql/*/bin holding pg_ctl.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(dirs) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
		return ""
	}
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	return filepath.Dir(dirs[len(dirs)-1])
}

// StartPostgres initdbs and starts a Postgres server in a temporary
// directory, stopped and removed when the test ends. Running as root, the
// server runs as the postgres OS user (runuser), as Postgres refuses root.
// It skips (or fails with AUTHD_TEST_REQUIRE_SERVICES=1) when the server
// binaries are not installed.
func StartPostgres(t testing.TB) *PGServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		if RequireServices() {
			t.Fatalf("the Postgres server binaries (initdb, pg_ctl) are required (%s=1) but not installed", EnvRequireServices)
		}
		t.Skip("skipping: the Postgres server binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin) are not installed")
	}
	dir, err := os.MkdirTemp("", "authd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &PGServer{bin: bin, data: filepath.Join(dir, "data"), sock: dir, logFile: filepath.Join(dir, "postgres.log"),
		port: spareAddr(t), asPostgres: os.Geteuid() == 0}
	if err := os.Mkdir(p.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if p.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{dir, p.data} {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		_ = p.pgCtl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if out, err := p.command("initdb", "-D", p.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// command runs one of the server binaries, as the postgres user when the
// test runs as root.
func (p *PGServer) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if p.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (p *PGServer) pgCtl(args ...string) error {
	args = append([]string{"-D", p.data, "-l", p.logFile, "-w", "-t", "30"}, args...)
	if out, err := p.command("pg_ctl", args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(p.logFile)
		return fmt.Errorf("pg_ctl %v: %w\n%s\nserver log:\n%s", args, err, out, tail(string(log), 20))
	}
	return nil
}

// Start starts the stopped server and waits until it accepts connections.
func (p *PGServer) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100", p.port, p.sock)
	if err := p.pgCtl("start", "-o", opts); err != nil {
		return err
	}
	db, err := sql.Open("postgres", p.URL())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := db.PingContext(ctx); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("postgres on port %d does not answer: %w", p.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server in fast mode: open sessions are terminated, their
// transactions rolled back.
func (p *PGServer) Stop() error { return p.pgCtl("stop", "-m", "fast") }
