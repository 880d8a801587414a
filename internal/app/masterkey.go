package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/authd/authd/config"
)

// masterKeyFile is where the embedded default keeps its generated key.
const masterKeyFile = "master.key"

// MasterKey returns the 32-byte master key: AUTHD_MASTER_KEY when set,
// otherwise (embedded default only; config refuses Postgres without it) the
// key in the data dir, generated on first start with a warning.
func MasterKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.MasterKey != "" {
		b, ok := config.MasterKeyBytes(cfg.MasterKey)
		if !ok {
			return nil, errors.New("AUTHD_MASTER_KEY: must be the base64 encoding of exactly 32 bytes")
		}
		return b, nil
	}
	path := filepath.Join(cfg.DataDir, masterKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		b, ok := config.MasterKeyBytes(strings.TrimSpace(string(data)))
		if !ok {
			return nil, fmt.Errorf("%s: not the base64 encoding of 32 bytes", path)
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("AUTHD_DATA_DIR: %w", err)
	}
	// Written to a temporary file, then linked into place: two processes
	// starting at once never read a half-written key or overwrite one.
	tmp, err := os.CreateTemp(cfg.DataDir, ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(b) + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return MasterKey(cfg, log) // another process won the race: use its key
	} else if err != nil {
		return nil, fmt.Errorf("install master key: %w", err)
	}
	log.Warn("generated a master key for signing keys; back it up, and set AUTHD_MASTER_KEY in production",
		slog.String("path", path))
	return b, nil
}
