package service

import (
	"log/slog"
	"strings"
	"testing"
)

func TestNewVerifierRefuses(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantPrefix string // the error must start with it
	}{
		{"no issuer", map[string]string{}, ""}, // any error
		{"bad redis url", map[string]string{"AUTHD_ISSUER": "http://127.0.0.1:1", "AUTHD_REDIS_URL": "redis+sentinel://s1:26379"}, "AUTHD_REDIS_URL: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewVerifier(func(k string) string { return tt.env[k] }, slog.New(slog.DiscardHandler))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Fatalf("NewVerifier = %v, want an error starting %q", err, tt.wantPrefix)
			}
		})
	}
}
