package app

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/pkg/store/sqlstore"
)

// TestPublishedKeysMatchesRotation runs scheduled rotation on a real store
// and a stepped clock, as Manager.Run does at every reload, and checks the
// JWKS never holds more keys than config.PublishedKeys says, and reaches
// that many: the bound config refuses settings by is the real one.
func TestPublishedKeysMatchesRotation(t *testing.T) {
	cfg := config.Default()
	cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	cfg.KeyRotationInterval = time.Hour
	cfg.RefreshTTL = 3 * time.Hour
	cfg.KeyReloadInterval = 10 * time.Minute
	want := cfg.PublishedKeys()
	if want != 5 {
		t.Fatalf("PublishedKeys() = %d; the case is meant to publish 5", want)
	}

	s, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := OpenKeys(cfg, s, slog.New(slog.DiscardHandler), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	most := 0
	for range 15 * 6 { // 15 hours of reloads
		now = now.Add(cfg.KeyReloadInterval)
		if err := m.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := m.RotateIfDue(t.Context(), cfg.KeyRotationInterval); err != nil {
			t.Fatal(err)
		}
		most = max(most, len(m.Keys()))
	}
	if most != want {
		t.Fatalf("the JWKS held at most %d keys, config.PublishedKeys() says %d", most, want)
	}
}
