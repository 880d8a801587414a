package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/pkg/middleware"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := config.Load("", envOf(nil))
	if err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if cfg.Addr != ":8080" || cfg.Issuer != "http://localhost:8080" || cfg.EffectiveAudience() != cfg.Issuer ||
		cfg.AccessTTL != 15*time.Minute || cfg.RefreshTTL != 720*time.Hour || cfg.RefreshReuseGrace != 10*time.Second ||
		cfg.BcryptCost != 12 || cfg.SigningAlg != "ES256" || cfg.ClientID != "authd" || cfg.DataDir != "./data" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg, err := config.Load("", envOf(map[string]string{
		"AUTHD_ADDR":                "127.0.0.1:9000",
		"AUTHD_AUDIENCE":            "api",
		"AUTHD_ACCESS_TTL":          "5m",
		"AUTHD_REFRESH_REUSE_GRACE": "0s",
		"AUTHD_BCRYPT_COST":         "10",
		"AUTHD_SIGNING_ALG":         "EdDSA",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.EffectiveAudience() != "api" || cfg.AccessTTL != 5*time.Minute ||
		cfg.RefreshReuseGrace != 0 || cfg.BcryptCost != 10 || cfg.SigningAlg != "EdDSA" {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"AUTHD_ACCESS_TTL": "fifteen"}, "AUTHD_ACCESS_TTL: \"fifteen\" is not a duration"},
		{"ttl too short", map[string]string{"AUTHD_ACCESS_TTL": "10s"}, "AUTHD_ACCESS_TTL: must be between"},
		{"refresh shorter than access", map[string]string{"AUTHD_REFRESH_TTL": "1m"}, "AUTHD_REFRESH_TTL:"},
		{"bad cost", map[string]string{"AUTHD_BCRYPT_COST": "abc"}, "AUTHD_BCRYPT_COST: \"abc\" is not a whole number"},
		{"low cost", map[string]string{"AUTHD_BCRYPT_COST": "4"}, "AUTHD_BCRYPT_COST: must be between 10 and 16"},
		{"alg", map[string]string{"AUTHD_SIGNING_ALG": "HS256"}, "AUTHD_SIGNING_ALG: must be ES256, EdDSA or RS256"},
		{"issuer", map[string]string{"AUTHD_ISSUER": "localhost"}, "AUTHD_ISSUER:"},
		{"issuer trailing slash", map[string]string{"AUTHD_ISSUER": "https://a.example/"}, "AUTHD_ISSUER:"},
		{"database", map[string]string{"AUTHD_DATABASE_URL": "mysql://x"}, "AUTHD_DATABASE_URL:"},
		{"redis", map[string]string{"AUTHD_REDIS_URL": "localhost:6379"}, "AUTHD_REDIS_URL:"},
		{"redis names the forms", map[string]string{"AUTHD_REDIS_URL": "redis+cluster://h1:7000,h2"}, "AUTHD_REDIS_URL: must be empty (in-process denylist) or one of redis://"},
		{"redis sentinel without master", map[string]string{"AUTHD_REDIS_URL": "redis+sentinel://s1:26379"}, "AUTHD_REDIS_URL:"},
		{"denylist layout", map[string]string{"AUTHD_DENYLIST_LAYOUT": "v3"}, "AUTHD_DENYLIST_LAYOUT: must be v1+v2"},
		{"master key size", map[string]string{"AUTHD_MASTER_KEY": "c2hvcnQ="}, "AUTHD_MASTER_KEY: must be the base64 encoding of exactly 32 bytes"},
		{"postgres without master key", map[string]string{"AUTHD_DATABASE_URL": "postgres://x/y"}, "AUTHD_MASTER_KEY: is required with Postgres"},
		{"leeway", map[string]string{"AUTHD_LEEWAY": "5m"}, "AUTHD_LEEWAY:"},
		{"negative verified cache", map[string]string{"AUTHD_VERIFIED_CACHE_SIZE": "-1"}, "AUTHD_VERIFIED_CACHE_SIZE: must be between 0 (off) and 1000000"},
		{"huge verified cache", map[string]string{"AUTHD_VERIFIED_CACHE_SIZE": "1000001"}, "AUTHD_VERIFIED_CACHE_SIZE:"},
		{"grace", map[string]string{"AUTHD_REFRESH_REUSE_GRACE": "-1s"}, "AUTHD_REFRESH_REUSE_GRACE:"},
		{"addr", map[string]string{"AUTHD_ADDR": "8080"}, "AUTHD_ADDR:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load("", envOf(tt.env))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestEveryProblemReportedOncePerLine(t *testing.T) {
	_, err := config.Load("", envOf(map[string]string{"AUTHD_ACCESS_TTL": "x", "AUTHD_SIGNING_ALG": "none"}))
	var cerr *config.Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.yaml")
	if err := os.WriteFile(path, []byte("issuer: https://auth.example.com\naccess_ttl: 10m\nbcrypt_cost: 11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, envOf(map[string]string{"AUTHD_BCRYPT_COST": "13"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://auth.example.com" || cfg.AccessTTL != 10*time.Minute || cfg.BcryptCost != 13 {
		t.Fatalf("file/env precedence wrong: %+v", cfg)
	}
}

func TestFileUnknownKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.yaml")
	if err := os.WriteFile(path, []byte("isuer: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path, envOf(nil)); err == nil || !strings.Contains(err.Error(), "isuer") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

func TestExampleFileMatchesDefaults(t *testing.T) {
	cfg, err := config.Load("authd.example.yaml", envOf(nil))
	if err != nil {
		t.Fatalf("example config invalid: %v", err)
	}
	if got, want := cfg, config.Default(); got != want {
		t.Fatalf("example file drifted from defaults:\n got %+v\nwant %+v", got, want)
	}
	data, err := os.ReadFile("authd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Settings() {
		if !strings.Contains(string(data), s.YAML+":") || !strings.Contains(string(data), s.Env) {
			t.Errorf("example file does not document %s (%s)", s.YAML, s.Env)
		}
	}
}

func TestSettingsMaskSecrets(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "postgres://u:pw@h/db"
	for _, s := range cfg.Settings() {
		if strings.Contains(s.Value, "pw") {
			t.Fatalf("%s shows a secret: %q", s.Env, s.Value)
		}
	}
}

func TestRevocationMirror(t *testing.T) {
	if config.Default().RevocationMirror {
		t.Fatal("the revocation mirror must be off by default")
	}
	redis := "redis://127.0.0.1:6379/0"
	tests := []struct {
		name string
		file string // YAML, if any
		env  map[string]string
		want bool
		err  string // the one problem expected, if any
	}{
		{name: "on with Redis", env: map[string]string{"AUTHD_REDIS_URL": redis, "AUTHD_REVOCATION_MIRROR": "true"}, want: true},
		{name: "off with Redis", env: map[string]string{"AUTHD_REDIS_URL": redis, "AUTHD_REVOCATION_MIRROR": "false"}},
		{name: "from the file", file: "redis_url: " + redis + "\nrevocation_mirror: true\n", want: true},
		{name: "environment overrides the file", file: "redis_url: " + redis + "\nrevocation_mirror: true\n",
			env: map[string]string{"AUTHD_REVOCATION_MIRROR": "0"}},
		{name: "off without Redis", env: map[string]string{"AUTHD_REVOCATION_MIRROR": "false"}},
		{name: "on without Redis", env: map[string]string{"AUTHD_REVOCATION_MIRROR": "true"},
			err: "AUTHD_REVOCATION_MIRROR: needs AUTHD_REDIS_URL"},
		{name: "on without Redis, from the file", file: "revocation_mirror: true\n",
			err: "AUTHD_REVOCATION_MIRROR: needs AUTHD_REDIS_URL"},
		{name: "not a boolean", env: map[string]string{"AUTHD_REDIS_URL": redis, "AUTHD_REVOCATION_MIRROR": "yes"},
			err: `AUTHD_REVOCATION_MIRROR: "yes" is not true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "authd.yaml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Load(path, envOf(tt.env))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.RevocationMirror != tt.want {
					t.Fatalf("RevocationMirror = %v, want %v", cfg.RevocationMirror, tt.want)
				}
				return
			}
			var cerr *config.Error
			if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || !strings.HasPrefix(cerr.Problems[0], tt.err) {
				t.Fatalf("err = %v, want the one problem %q…", err, tt.err)
			}
		})
	}
}

// TestVerifiedCacheSize: the default is the middleware's, and 0 (off) is
// a valid setting.
func TestVerifiedCacheSize(t *testing.T) {
	if got := config.Default().VerifiedCacheSize; got != middleware.DefaultVerifiedCacheSize {
		t.Errorf("default VerifiedCacheSize = %d, want middleware.DefaultVerifiedCacheSize (%d)", got, middleware.DefaultVerifiedCacheSize)
	}
	cfg, err := config.Load("", envOf(map[string]string{"AUTHD_VERIFIED_CACHE_SIZE": "0"}))
	if err != nil || cfg.VerifiedCacheSize != 0 {
		t.Fatalf("AUTHD_VERIFIED_CACHE_SIZE=0: %d, %v; want 0 and no error", cfg.VerifiedCacheSize, err)
	}
}

// TestRedisURLForms: every topology's form is accepted, and a bad one is
// reported on one line that names the variable and the accepted forms
// but never the password.
func TestRedisURLForms(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"one server", "redis://127.0.0.1:6379/0", true},
		{"TLS", "rediss://:pw@redis.example.com:6380/0", true},
		{"cluster", "redis+cluster://u:pw@h1:7000,h2:7001?tls=true", true},
		{"sentinel", "redis+sentinel://s1:26379,s2:26379/mymaster/1", true},
		{"cluster without port", "redis+cluster://u:s3cret@h1", false},
		{"unknown scheme", "memcached://u:s3cret@h1:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load("", envOf(map[string]string{"AUTHD_REDIS_URL": tc.url}))
			if tc.ok {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.RedisURL != tc.url {
					t.Errorf("RedisURL = %q", cfg.RedisURL)
				}
				return
			}
			if err == nil {
				t.Fatal("Load accepted it")
			}
			msg := err.Error()
			var line string
			for _, l := range strings.Split(msg, "\n") {
				if strings.Contains(l, "AUTHD_REDIS_URL") {
					line = l
				}
			}
			if line == "" || !strings.Contains(line, "redis+cluster://") || !strings.Contains(line, "redis+sentinel://") || strings.Contains(msg, "s3cret") {
				t.Errorf("error = %q, want one AUTHD_REDIS_URL line naming the forms, without the password", msg)
			}
		})
	}
}
