// Package config holds authd's typed configuration: defaults, an optional
// YAML file, and AUTHD_* environment variables, in that order of precedence
// (environment wins). Load validates everything at once and reports every
// problem, one line each, naming the variable and what is wrong.
//
// The environment variable names are a public contract; see
// config/authd.example.yaml for every key with its default.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration of an authd process.
type Config struct {
	// Addr is the HTTP listen address.
	Addr string `yaml:"addr" env:"AUTHD_ADDR"`
	// Issuer is the "iss" of every token and the base of discovery URLs.
	Issuer string `yaml:"issuer" env:"AUTHD_ISSUER"`
	// Audience is the "aud" of access tokens; empty means the issuer.
	Audience string `yaml:"audience" env:"AUTHD_AUDIENCE"`
	// DataDir holds the embedded SQLite database and, on the embedded
	// default, the generated master key.
	DataDir string `yaml:"data_dir" env:"AUTHD_DATA_DIR"`
	// DatabaseURL selects the store: empty for SQLite in DataDir,
	// postgres://… for Postgres.
	DatabaseURL string `yaml:"database_url" env:"AUTHD_DATABASE_URL" secret:"true"`
	// RedisURL selects the denylist: empty for in-process, redis://… for
	// Redis (required when running more than one replica).
	RedisURL string `yaml:"redis_url" env:"AUTHD_REDIS_URL" secret:"true"`
	// RedisKeyPrefix prefixes every denylist key in Redis.
	RedisKeyPrefix string `yaml:"redis_key_prefix" env:"AUTHD_REDIS_KEY_PREFIX"`

	// AccessTTL is the lifetime of access tokens.
	AccessTTL time.Duration `yaml:"access_ttl" env:"AUTHD_ACCESS_TTL"`
	// RefreshTTL is the lifetime of each refresh token; every rotation
	// issues a new one valid this long (sliding session).
	RefreshTTL time.Duration `yaml:"refresh_ttl" env:"AUTHD_REFRESH_TTL"`
	// RefreshReuseGrace is how long after a rotation the previous refresh
	// token still returns the same successor instead of revoking the
	// session. Zero disables it.
	RefreshReuseGrace time.Duration `yaml:"refresh_reuse_grace" env:"AUTHD_REFRESH_REUSE_GRACE"`
	// Leeway is the clock-skew allowance when verifying tokens.
	Leeway time.Duration `yaml:"leeway" env:"AUTHD_LEEWAY"`
	// BcryptCost is the cost of new password hashes.
	BcryptCost int `yaml:"bcrypt_cost" env:"AUTHD_BCRYPT_COST"`
	// SigningAlg is the algorithm of new signing keys.
	SigningAlg string `yaml:"signing_alg" env:"AUTHD_SIGNING_ALG"`
	// MasterKey (base64 of 32 bytes) encrypts signing keys at rest.
	MasterKey string `yaml:"master_key" env:"AUTHD_MASTER_KEY" secret:"true"`
	// ClientID is the "client_id" claim of access tokens until clients are
	// registered.
	ClientID string `yaml:"client_id" env:"AUTHD_CLIENT_ID"`
	// JWKSMaxAge is the Cache-Control max-age of the JWKS document.
	JWKSMaxAge time.Duration `yaml:"jwks_max_age" env:"AUTHD_JWKS_MAX_AGE"`
	// KeyRotationInterval is how often a new signing key is rotated in
	// (published ahead of signing); zero disables scheduled rotation.
	KeyRotationInterval time.Duration `yaml:"key_rotation_interval" env:"AUTHD_KEY_ROTATION_INTERVAL"`
	// KeyReloadInterval is how often a replica re-reads signing keys from
	// the store, so keys rotated elsewhere are picked up.
	KeyReloadInterval time.Duration `yaml:"key_reload_interval" env:"AUTHD_KEY_RELOAD_INTERVAL"`

	// IntrospectionClientID and IntrospectionClientSecret are the HTTP
	// Basic credentials gateways present to /v1/introspect; introspection
	// is off until both are set.
	IntrospectionClientID     string `yaml:"introspection_client_id" env:"AUTHD_INTROSPECTION_CLIENT_ID"`
	IntrospectionClientSecret string `yaml:"introspection_client_secret" env:"AUTHD_INTROSPECTION_CLIENT_SECRET" secret:"true"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"AUTHD_LOG_LEVEL"`
	// LogFormat is json, text, or auto (text on a terminal, else JSON).
	LogFormat string `yaml:"log_format" env:"AUTHD_LOG_FORMAT"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"AUTHD_SHUTDOWN_TIMEOUT"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:                ":8080",
		Issuer:              "http://localhost:8080",
		DataDir:             "./data",
		RedisKeyPrefix:      "authd:dl:",
		AccessTTL:           15 * time.Minute,
		RefreshTTL:          720 * time.Hour,
		RefreshReuseGrace:   10 * time.Second,
		Leeway:              5 * time.Second,
		BcryptCost:          12,
		SigningAlg:          "ES256",
		ClientID:            "authd",
		JWKSMaxAge:          5 * time.Minute,
		KeyReloadInterval:   time.Minute,
		KeyRotationInterval: 720 * time.Hour,
		LogLevel:            "info",
		LogFormat:           "auto",
		ShutdownTimeout:     15 * time.Second,
	}
}

// EffectiveAudience returns Audience, or Issuer when Audience is empty.
func (c Config) EffectiveAudience() string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.Issuer
}

// UsesPostgres reports whether DatabaseURL names a Postgres server.
func (c Config) UsesPostgres() bool { return isPostgresURL(c.DatabaseURL) }

// Error lists every problem found in a configuration, one per line.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return strings.Join(e.Problems, "\n")
}

// ErrInvalid is matched (errors.Is) by every *Error.
var ErrInvalid = errors.New("invalid configuration")

// Is makes errors.Is(err, ErrInvalid) true for an *Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func problem(name, format string, args ...any) string {
	return name + ": " + fmt.Sprintf(format, args...)
}
