package e2e_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestEmbeddedStoreFilesOwnerOnly runs the embedded server in a data
// directory that already exists with the usual 0755, under the usual
// umask 022: after traffic, the database and its -wal and -shm files are
// readable by the service's user alone.
func TestEmbeddedStoreFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022) // process-wide; 022 is the common default
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.DataDir = dir
	s := start(t, cfg, newClock())
	tk := s.signedUp("lena@example.com")
	if r := s.refresh(tk.RefreshToken); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	for _, name := range []string{"authd.db", "authd.db-wal", "authd.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", name, got)
		}
	}
}
