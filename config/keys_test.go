package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

func TestPublishedKeys(t *testing.T) {
	tests := []struct {
		name     string
		rotation time.Duration
		refresh  time.Duration
		want     int
	}{
		// The key about to sign, the one signing, and the one before it,
		// published until its last refresh token expires.
		{"defaults", 720 * time.Hour, 720 * time.Hour, 3},
		{"rotation off", 0, 720 * time.Hour, 0},
		{"daily rotation, 30-day refresh", 24 * time.Hour, 720 * time.Hour, 32},
		{"23h rotation, 30-day refresh", 23 * time.Hour, 720 * time.Hour, 33},
		{"hourly rotation, 30-day refresh", time.Hour, 720 * time.Hour, 722},
		{"hourly rotation, 1h refresh", time.Hour, time.Hour, 3},
		{"yearly refresh, weekly rotation", 168 * time.Hour, 8760 * time.Hour, 54},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.KeyRotationInterval, cfg.RefreshTTL = tt.rotation, tt.refresh
			if got := cfg.PublishedKeys(); got != tt.want {
				t.Fatalf("PublishedKeys() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTooManyPublishedKeysRefused: a rotation interval and refresh TTL
// that would publish more than 32 keys at once are one problem naming both
// variables; 32 is accepted.
func TestTooManyPublishedKeysRefused(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string // "" when valid
	}{
		{map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "24h"}, ""},
		{map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "0"}, ""},
		{map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "23h"},
			"AUTHD_KEY_ROTATION_INTERVAL: 23h with AUTHD_REFRESH_TTL 720h would publish 33 keys at once in the JWKS (at most 32: a key stays published for AUTHD_REFRESH_TTL + AUTHD_LEEWAY after it stops signing); set AUTHD_KEY_ROTATION_INTERVAL to at least 23h14m or shorten AUTHD_REFRESH_TTL"},
		{map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "1h", "AUTHD_REFRESH_TTL": "2160h"},
			"AUTHD_KEY_ROTATION_INTERVAL: 1h with AUTHD_REFRESH_TTL 2160h would publish 2162 keys"},
		{map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "1h", "AUTHD_REFRESH_TTL": "30h"}, ""},
	} {
		_, err := config.Load("", envOf(tt.env))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.env, err)
			}
			continue
		}
		var cerr *config.Error
		if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || !strings.HasPrefix(cerr.Problems[0], tt.want) {
			t.Errorf("%v: got %v, want one problem starting %q", tt.env, err, tt.want)
		}
	}
	// The interval the message asks for is accepted.
	if _, err := config.Load("", envOf(map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "23h14m"})); err != nil {
		t.Errorf("the suggested interval is refused: %v", err)
	}
	if _, err := config.Load("", envOf(map[string]string{"AUTHD_KEY_ROTATION_INTERVAL": "23h13m"})); err == nil {
		t.Error("a minute under the suggested interval is accepted")
	}
}

func TestMetricsListenOnLoopbackByDefault(t *testing.T) {
	cfg, err := config.Load("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("MetricsAddr = %q, want 127.0.0.1:9090", cfg.MetricsAddr)
	}
	cfg, err = config.Load("", envOf(map[string]string{"AUTHD_METRICS_ADDR": ":9090"}))
	if err != nil || cfg.MetricsAddr != ":9090" {
		t.Fatalf("explicit :9090: %q, %v", cfg.MetricsAddr, err)
	}
}
