package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

// The second-factor settings are read, defaulted and bounded.
func TestMFASettings(t *testing.T) {
	def, err := config.Load("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if def.MFATokenTTL != 5*time.Minute || def.AdminRequireMFA || def.MFARequiredRoleList() != nil ||
		def.EffectiveMFAIssuer() != "localhost" {
		t.Fatalf("defaults: ttl %s, admin %v, roles %v, issuer %q", def.MFATokenTTL, def.AdminRequireMFA,
			def.MFARequiredRoleList(), def.EffectiveMFAIssuer())
	}
	cfg, err := config.Load("", envOf(map[string]string{
		"AUTHD_ISSUER":             "https://auth.example.com",
		"AUTHD_MFA_ISSUER":         "Example Bank",
		"AUTHD_MFA_TOKEN_TTL":      "2m",
		"AUTHD_MFA_REQUIRED_ROLES": " admin, ops ,,",
		"AUTHD_ADMIN_REQUIRE_MFA":  "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MFATokenTTL != 2*time.Minute || !cfg.AdminRequireMFA || !slices.Equal(cfg.MFARequiredRoleList(), []string{"admin", "ops"}) ||
		cfg.EffectiveMFAIssuer() != "Example Bank" {
		t.Fatalf("set: %+v", cfg)
	}
	if iss := (config.Config{Issuer: "https://auth.example.com"}).EffectiveMFAIssuer(); iss != "auth.example.com" {
		t.Fatalf("issuer default %q", iss)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ttl too short", map[string]string{"AUTHD_MFA_TOKEN_TTL": "30s"}, "AUTHD_MFA_TOKEN_TTL:"},
		{"ttl too long", map[string]string{"AUTHD_MFA_TOKEN_TTL": "1h"}, "AUTHD_MFA_TOKEN_TTL:"},
		{"issuer with a colon", map[string]string{"AUTHD_MFA_ISSUER": "a:b"}, "AUTHD_MFA_ISSUER:"},
		{"issuer too long", map[string]string{"AUTHD_MFA_ISSUER": strings.Repeat("x", 65)}, "AUTHD_MFA_ISSUER:"},
		{"admin require not a bool", map[string]string{"AUTHD_ADMIN_REQUIRE_MFA": "maybe"}, "AUTHD_ADMIN_REQUIRE_MFA:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load("", envOf(tc.env))
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
