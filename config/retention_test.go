package config_test

import (
	"testing"
	"time"

	"github.com/authd/authd/config"
)

func TestParseAuditRetention(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"400d", 400 * 24 * time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{" 30d ", 30 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"24h", 24 * time.Hour, true},
		{"off", 0, true},
		{"0", 0, true},
		{"36500d", 36500 * 24 * time.Hour, true},
		{"", 0, false},
		{"0d", 0, false},
		{"23h59m", 0, false},
		{"-5d", 0, false},
		{"36501d", 0, false},
		{"1.5d", 0, false},
		{"forever", 0, false},
		{"400", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := config.ParseAuditRetention(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("ParseAuditRetention(%q) error = %v, want ok %v", c.in, err, c.ok)
			}
			if got != c.want {
				t.Fatalf("ParseAuditRetention(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func TestAuditRetentionSetting(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "AUTHD_AUDIT_RETENTION" {
				return v
			}
			return ""
		}
	}
	cfg, err := config.Load("", env(""))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := cfg.AuditRetentionPeriod(); err != nil || d != 400*24*time.Hour {
		t.Fatalf("default retention = %v, %v; want 400 days", d, err)
	}
	if _, err := config.Load("", env("12h")); err == nil {
		t.Fatal("AUTHD_AUDIT_RETENTION=12h accepted, want at least a day")
	}
	cfg, err = config.Load("", env("off"))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := cfg.AuditRetentionPeriod(); d != 0 {
		t.Fatalf("off = %v, want 0 (keep forever)", d)
	}
}
