package ratelimit_test

import (
	"testing"

	"github.com/authd/authd/internal/ratelimit"
)

func TestIPKeys(t *testing.T) {
	tests := []struct {
		name, ip, ipKey, networkKey string
	}{
		{"ipv4", "192.0.2.17", "192.0.2.17", "192.0.2.0/24"},
		{"mapped ipv4", "::ffff:192.0.2.17", "192.0.2.17", "192.0.2.0/24"},
		{"ipv6", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"unparsable", "not-an-ip", "not-an-ip", "not-an-ip"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratelimit.IPKey(tt.ip); got != tt.ipKey {
				t.Errorf("IPKey(%q) = %q, want %q", tt.ip, got, tt.ipKey)
			}
			if got := ratelimit.NetworkKey(tt.ip); got != tt.networkKey {
				t.Errorf("NetworkKey(%q) = %q, want %q", tt.ip, got, tt.networkKey)
			}
		})
	}
}
