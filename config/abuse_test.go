package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    config.RateLimit
		wantErr string
	}{
		{"with burst", "20/1m:10", config.RateLimit{Rate: 20, Period: time.Minute, Burst: 10}, ""},
		{"burst defaults to the count", "5/1h", config.RateLimit{Rate: 5, Period: time.Hour, Burst: 5}, ""},
		{"spaces trimmed", " 3/30s:1 ", config.RateLimit{Rate: 3, Period: 30 * time.Second, Burst: 1}, ""},
		{"burst above the count", "1/1m:5", config.RateLimit{Rate: 1, Period: time.Minute, Burst: 5}, ""},
		{"no slash", "20", config.RateLimit{}, "must be N/period[:burst]"},
		{"zero count", "0/1m", config.RateLimit{}, "count"},
		{"negative count", "-1/1m", config.RateLimit{}, "count"},
		{"count not a number", "many/1m", config.RateLimit{}, "count"},
		{"huge count", "2000000/1m", config.RateLimit{}, "count"},
		{"period without unit", "20/60", config.RateLimit{}, "period"},
		{"period too short", "20/10ms", config.RateLimit{}, "period"},
		{"period too long", "20/48h", config.RateLimit{}, "period"},
		{"zero burst", "20/1m:0", config.RateLimit{}, "burst"},
		{"empty burst", "20/1m:", config.RateLimit{}, "burst"},
		{"empty", "", config.RateLimit{}, "must be N/period[:burst]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.ParseRateLimit(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRateLimit(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRateLimit(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDefaultRateLimitsParse(t *testing.T) {
	limits, err := config.Default().RateLimits()
	if err != nil {
		t.Fatal(err)
	}
	if limits.LoginIP != (config.RateLimit{Rate: 20, Period: time.Minute, Burst: 10}) ||
		limits.LoginAccount != (config.RateLimit{Rate: 10, Period: time.Minute, Burst: 5}) {
		t.Fatalf("login limits %+v %+v", limits.LoginIP, limits.LoginAccount)
	}
	for name, l := range map[string]config.RateLimit{"register": limits.RegisterIP, "token": limits.TokenIP,
		"forgot ip": limits.ForgotIP, "forgot account": limits.ForgotAccount, "verify": limits.EmailVerifyIP, "reset": limits.ResetIP,
		"change ip": limits.ChangeIP, "change account": limits.ChangeAccount,
		"client id": limits.ClientID, "client ip": limits.ClientIP} {
		if l.Rate < 1 || l.Burst < 1 || l.Period < time.Second {
			t.Errorf("%s: %+v", name, l)
		}
	}
}

// The API's rate-limit middleware finds each endpoint's limit by name in
// PerIP: every per-IP limit is there under its endpoint, and nothing else.
func TestRateLimitsPerIPByEndpoint(t *testing.T) {
	limits, err := config.Default().RateLimits()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]config.RateLimit{"login": limits.LoginIP, "register": limits.RegisterIP, "token": limits.TokenIP,
		"forgot": limits.ForgotIP, "verify": limits.EmailVerifyIP, "reset": limits.ResetIP, "change": limits.ChangeIP}
	if len(limits.PerIP) != len(want) {
		t.Fatalf("PerIP = %+v, want the %d endpoints %+v", limits.PerIP, len(want), want)
	}
	for name, l := range want {
		if got, ok := limits.PerIP[name]; !ok || got != l {
			t.Errorf("PerIP[%q] = %+v, %v; want %+v", name, got, ok, l)
		}
	}
}

func TestAbuseSettingsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"login ip", map[string]string{"AUTHD_RATELIMIT_LOGIN_IP": "20 per minute"}, "AUTHD_RATELIMIT_LOGIN_IP: must be N/period[:burst]"},
		{"forgot account", map[string]string{"AUTHD_RATELIMIT_FORGOT_ACCOUNT": "5/1w"}, "AUTHD_RATELIMIT_FORGOT_ACCOUNT: the period"},
		{"reset burst", map[string]string{"AUTHD_RATELIMIT_RESET_IP": "5/1h:x"}, "AUTHD_RATELIMIT_RESET_IP: the burst"},
		{"change ip", map[string]string{"AUTHD_RATELIMIT_CHANGE_IP": "0/1h"}, "AUTHD_RATELIMIT_CHANGE_IP: the count"},
		{"change account", map[string]string{"AUTHD_RATELIMIT_CHANGE_ACCOUNT": "5"}, "AUTHD_RATELIMIT_CHANGE_ACCOUNT: must be N/period[:burst]"},
		{"client id burst", map[string]string{"AUTHD_RATELIMIT_CLIENT_ID": "10/1h:20"}, "AUTHD_RATELIMIT_CLIENT_ID: a failure budget is N/period, without a burst"},
		{"client ip period", map[string]string{"AUTHD_RATELIMIT_CLIENT_IP": "10/2d"}, "AUTHD_RATELIMIT_CLIENT_IP: the period"},
		{"enabled", map[string]string{"AUTHD_RATELIMIT_ENABLED": "sometimes"}, "AUTHD_RATELIMIT_ENABLED: \"sometimes\" is not true or false"},
		{"prefix", map[string]string{"AUTHD_RATELIMIT_KEY_PREFIX": " "}, "AUTHD_RATELIMIT_KEY_PREFIX: must not be empty"},
		{"min length below NIST", map[string]string{"AUTHD_PASSWORD_MIN_LENGTH": "6"}, "AUTHD_PASSWORD_MIN_LENGTH: must be between 8"},
		{"min length beyond bcrypt", map[string]string{"AUTHD_PASSWORD_MIN_LENGTH": "80"}, "AUTHD_PASSWORD_MIN_LENGTH: must be between 8"},
		{"negative slots", map[string]string{"AUTHD_BCRYPT_MAX_CONCURRENT": "-1"}, "AUTHD_BCRYPT_MAX_CONCURRENT:"},
		{"negative queue", map[string]string{"AUTHD_BCRYPT_MAX_QUEUE": "-4"}, "AUTHD_BCRYPT_MAX_QUEUE:"},
		{"nice beyond 19", map[string]string{"AUTHD_BCRYPT_NICE": "20"}, "AUTHD_BCRYPT_NICE: must be 0 (normal priority) to 19"},
		{"negative nice", map[string]string{"AUTHD_BCRYPT_NICE": "-5"}, "AUTHD_BCRYPT_NICE: must be 0 (normal priority) to 19"},
		{"wait too long", map[string]string{"AUTHD_BCRYPT_MAX_WAIT": "1m"}, "AUTHD_BCRYPT_MAX_WAIT: must be between 10ms and 30s"},
		{"cert without key", map[string]string{"AUTHD_TLS_CERT": "/etc/authd/cert.pem"}, "AUTHD_TLS_CERT: and AUTHD_TLS_KEY must be set together"},
		{"key without cert", map[string]string{"AUTHD_TLS_KEY": "/etc/authd/key.pem"}, "AUTHD_TLS_CERT: and AUTHD_TLS_KEY must be set together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load("", envOf(tt.env))
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAbuseSettingsFromEnvironment(t *testing.T) {
	cfg, err := config.Load("", envOf(map[string]string{
		"AUTHD_RATELIMIT_ENABLED":     "false",
		"AUTHD_RATELIMIT_LOGIN_IP":    "100/1m",
		"AUTHD_BCRYPT_MAX_CONCURRENT": "3",
		"AUTHD_BCRYPT_MAX_WAIT":       "250ms",
		"AUTHD_BCRYPT_NICE":           "0",
		"AUTHD_PASSWORD_MIN_LENGTH":   "12",
	}))
	if err != nil {
		t.Fatal(err)
	}
	limits, err := cfg.RateLimits()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimitEnabled || limits.LoginIP != (config.RateLimit{Rate: 100, Period: time.Minute, Burst: 100}) ||
		cfg.BcryptMaxConcurrent != 3 || cfg.BcryptMaxWait != 250*time.Millisecond || cfg.BcryptNice != 0 || cfg.PasswordMinLength != 12 {
		t.Fatalf("not applied: %+v", cfg)
	}
}
