package sqlstore_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSQLiteFilesOwnerOnly opens a file database in a data directory that
// already exists with the usual 0755 and the usual umask 022: the database,
// -wal and -shm must end up 0600 (new, or left 0644 by an older release),
// and a directory open to others is warned about.
func TestSQLiteFilesOwnerOnly(t *testing.T) {
	// The umask is process-wide; 022 is the common default and the one
	// under which SQLite alone would create 0644 files.
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	cases := []struct {
		name     string
		dirMode  os.FileMode
		existing bool // the files exist already, 0644
		wantWarn bool
	}{
		{"new files, dir 0755", 0o755, false, true},
		{"existing 0644 files, dir 0755", 0o755, true, true},
		{"new files, dir 0700", 0o700, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, c.dirMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, c.dirMode); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "authd.db")
			if c.existing {
				// A database an older release created and left 0644.
				s := openMigrated(t, "sqlite://"+path)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.WriteFile(path+suffix, nil, 0o644); err != nil && suffix != "" {
						t.Fatal(err)
					}
					if err := os.Chmod(path+suffix, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			s := openMigrated(t, "sqlite://"+path, sqlstore.WithLogger(log))
			if _, err := s.CreateUser(testCtx(t), store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			if _, err := s.UserByID(testCtx(t), "u"); err != nil {
				t.Fatalf("UserByID: %v", err)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				fi, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatalf("stat %s: %v", path+suffix, err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %v, want -rw-------", filepath.Base(path+suffix), got)
				}
			}
			warned := strings.Contains(logs.String(), "data directory is accessible to other users")
			if warned != c.wantWarn {
				t.Errorf("warned about the directory = %v, want %v; log:\n%s", warned, c.wantWarn, logs.String())
			}
		})
	}
}
