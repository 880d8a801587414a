package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

func TestMailSettings(t *testing.T) {
	cfg, err := config.Load("", envOf(map[string]string{
		"AUTHD_PUBLIC_URL":             "https://app.example.com/account/",
		"AUTHD_SMTP_URL":               "smtps://u:p%40ss@smtp.example.com",
		"AUTHD_MAIL_FROM":              "Example <no-reply@example.com>",
		"AUTHD_MAIL_TEMPLATES_DIR":     "/etc/authd/mail",
		"AUTHD_REQUIRE_VERIFIED_EMAIL": "true",
		"AUTHD_VERIFY_TTL":             "48h",
		"AUTHD_RESET_TTL":              "15m",
		"AUTHD_INVITE_TTL":             "168h",
		"AUTHD_TRUSTED_PROXIES":        " 10.0.0.0/8, 192.0.2.7 ,::1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EffectivePublicURL() != "https://app.example.com/account" || !cfg.RequireVerifiedEmail ||
		cfg.VerifyTTL != 48*time.Hour || cfg.ResetTTL != 15*time.Minute || cfg.InviteTTL != 168*time.Hour || cfg.MailTemplatesDir != "/etc/authd/mail" ||
		cfg.EffectiveMailFrom() != "Example <no-reply@example.com>" {
		t.Fatalf("settings not applied: %+v", cfg)
	}
	if got := cfg.TrustedProxyList(); !slices.Equal(got, []string{"10.0.0.0/8", "192.0.2.7", "::1"}) {
		t.Fatalf("TrustedProxyList = %q", got)
	}
	for _, s := range cfg.Settings() {
		if s.Env == "AUTHD_SMTP_URL" && s.Value != "(set)" {
			t.Fatalf("the SMTP URL holds a password and must be masked: %q", s.Value)
		}
	}

	def := config.Default()
	if def.EffectivePublicURL() != def.Issuer || def.TrustedProxyList() != nil || def.RequireVerifiedEmail ||
		def.EffectiveMailFrom() == "" || def.VerifyTTL != 24*time.Hour || def.ResetTTL != 30*time.Minute || def.InviteTTL != 72*time.Hour {
		t.Fatalf("defaults: %+v", def)
	}
}

func TestInvalidMailSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"public url", map[string]string{"AUTHD_PUBLIC_URL": "app.example.com"}, "AUTHD_PUBLIC_URL:"},
		{"public url query", map[string]string{"AUTHD_PUBLIC_URL": "https://a.example?x=1"}, "AUTHD_PUBLIC_URL:"},
		{"smtp scheme", map[string]string{"AUTHD_SMTP_URL": "http://h", "AUTHD_MAIL_FROM": "a@example.com"}, "AUTHD_SMTP_URL:"},
		{"smtp param", map[string]string{"AUTHD_SMTP_URL": "smtp://h?tls=on", "AUTHD_MAIL_FROM": "a@example.com"}, "AUTHD_SMTP_URL:"},
		{"smtps opportunistic", map[string]string{"AUTHD_SMTP_URL": "smtps://h?starttls=opportunistic", "AUTHD_MAIL_FROM": "a@example.com"}, "AUTHD_SMTP_URL:"},
		{"smtp without from", map[string]string{"AUTHD_SMTP_URL": "smtp://h:587"}, "AUTHD_MAIL_FROM: is required"},
		{"from", map[string]string{"AUTHD_MAIL_FROM": "nobody"}, "AUTHD_MAIL_FROM: must be"},
		{"verify ttl", map[string]string{"AUTHD_VERIFY_TTL": "1m"}, "AUTHD_VERIFY_TTL:"},
		{"invite ttl too short", map[string]string{"AUTHD_INVITE_TTL": "30m"}, "AUTHD_INVITE_TTL:"},
		{"invite ttl too long", map[string]string{"AUTHD_INVITE_TTL": "721h"}, "AUTHD_INVITE_TTL:"},
		{"reset ttl", map[string]string{"AUTHD_RESET_TTL": "48h"}, "AUTHD_RESET_TTL:"},
		{"require verified", map[string]string{"AUTHD_REQUIRE_VERIFIED_EMAIL": "sometimes"}, "AUTHD_REQUIRE_VERIFIED_EMAIL:"},
		{"proxies", map[string]string{"AUTHD_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, "AUTHD_TRUSTED_PROXIES:"},
		{"proxies empty entry", map[string]string{"AUTHD_TRUSTED_PROXIES": "10.0.0.1,,10.0.0.2"}, "AUTHD_TRUSTED_PROXIES:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load("", envOf(tt.env))
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	// A bad SMTP URL is reported without repeating it: it may hold a password.
	_, err := config.Load("", envOf(map[string]string{"AUTHD_SMTP_URL": "smtp://u:s3cret@h/path", "AUTHD_MAIL_FROM": "a@example.com"}))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}
