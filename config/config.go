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
	// DatabaseURL selects the store: empty or sqlite:PATH for SQLite
	// (empty: in DataDir), postgres://… or postgresql://… for Postgres,
	// mysql://user:pass@host:3306/db?tls=… for MySQL/MariaDB, mongodb://…
	// or mongodb+srv://… for MongoDB.
	DatabaseURL string `yaml:"database_url" env:"AUTHD_DATABASE_URL" secret:"true"`
	// RedisURL selects the denylist: empty for in-process, or one of the
	// forms of pkg/redisurl (one server, Redis Cluster, Sentinel) for
	// Redis (required when running more than one replica). The same
	// client serves the rate limiter, the backoff and the mirror.
	RedisURL string `yaml:"redis_url" env:"AUTHD_REDIS_URL" secret:"true"`
	// RedisKeyPrefix prefixes every denylist key in Redis.
	RedisKeyPrefix string `yaml:"redis_key_prefix" env:"AUTHD_REDIS_KEY_PREFIX"`
	// DenylistLayout is the Redis key layout of the denylist: "v1+v2"
	// (write both, read v2 then v1: safe during a rolling upgrade from
	// a release that knows only v1) or "v2" (once every writer and
	// verifier reads v2 and one access TTL has passed).
	DenylistLayout string `yaml:"denylist_layout" env:"AUTHD_DENYLIST_LAYOUT"`
	// RevocationMirror answers revocation checks from an in-memory copy
	// of the Redis denylist kept current by its events (denylist.Mirror)
	// instead of one Redis round trip per check; writes still go to
	// Redis. Requires RedisURL.
	RevocationMirror bool `yaml:"revocation_mirror" env:"AUTHD_REVOCATION_MIRROR"`

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
	// VerifiedCacheSize is how many verified access tokens the verifier of
	// /v1/verify, /v1/introspect and the bearer endpoints remembers, so
	// that a repeated one skips its signature check (claims, key and
	// revocation are still checked every time); about 1 KB each; 0
	// disables it.
	VerifiedCacheSize int `yaml:"verified_cache_size" env:"AUTHD_VERIFIED_CACHE_SIZE"`
	// BcryptCost is the cost of new password hashes.
	BcryptCost int `yaml:"bcrypt_cost" env:"AUTHD_BCRYPT_COST"`
	// SigningAlg is the algorithm of new signing keys.
	SigningAlg string `yaml:"signing_alg" env:"AUTHD_SIGNING_ALG"`
	// MasterKey (base64 of 32 bytes) encrypts signing keys at rest.
	MasterKey string `yaml:"master_key" env:"AUTHD_MASTER_KEY" secret:"true"`
	// ClientID is the "client_id" claim of access tokens until clients are
	// registered.
	ClientID string `yaml:"client_id" env:"AUTHD_CLIENT_ID"`
	// AdminRole is the role whose holders may use the admin API
	// (/v1/admin/…).
	AdminRole string `yaml:"admin_role" env:"AUTHD_ADMIN_ROLE"`
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

	// PublicURL is the base of the links mailed to users (the app that
	// shows the verify-email and reset-password pages); empty means
	// Issuer.
	PublicURL string `yaml:"public_url" env:"AUTHD_PUBLIC_URL"`
	// SMTPURL is the mail server: smtp://user:pass@host:587 (STARTTLS
	// whenever offered; ?starttls=required insists) or smtps://…:465
	// (implicit TLS). Empty: the development mailer writes each message to
	// DataDir/mail and the log instead of sending it.
	SMTPURL string `yaml:"smtp_url" env:"AUTHD_SMTP_URL" secret:"true"`
	// MailFrom is the sender of authd's mail, e.g. `Example <no-reply@example.com>`;
	// required with SMTPURL.
	MailFrom string `yaml:"mail_from" env:"AUTHD_MAIL_FROM"`
	// MailTemplatesDir holds template overrides (<kind>.txt, <kind>.html);
	// empty uses the embedded ones.
	MailTemplatesDir string `yaml:"mail_templates_dir" env:"AUTHD_MAIL_TEMPLATES_DIR"`
	// RequireVerifiedEmail refuses login until the email is verified, and
	// makes registering a taken email look like a new registration.
	RequireVerifiedEmail bool `yaml:"require_verified_email" env:"AUTHD_REQUIRE_VERIFIED_EMAIL"`
	// VerifyTTL is the lifetime of email verification links.
	VerifyTTL time.Duration `yaml:"verify_ttl" env:"AUTHD_VERIFY_TTL"`
	// ResetTTL is the lifetime of password reset links.
	ResetTTL time.Duration `yaml:"reset_ttl" env:"AUTHD_RESET_TTL"`
	// InviteTTL is the lifetime of the set-password link mailed to an
	// account the admin API created without a password.
	InviteTTL time.Duration `yaml:"invite_ttl" env:"AUTHD_INVITE_TTL"`
	// TrustedProxies is a comma-separated list of IPs and CIDRs of reverse
	// proxies whose X-Forwarded-For gives the client IP; empty trusts none.
	TrustedProxies string `yaml:"trusted_proxies" env:"AUTHD_TRUSTED_PROXIES"`

	// Second factor (config/mfa.go, README "Two-factor authentication").
	// MFAIssuer names authd in authenticator apps; empty: the host name
	// of Issuer.
	MFAIssuer string `yaml:"mfa_issuer" env:"AUTHD_MFA_ISSUER"`
	// MFATokenTTL is the lifetime of the mfa_token of a login's second
	// step (1m..15m).
	MFATokenTTL time.Duration `yaml:"mfa_token_ttl" env:"AUTHD_MFA_TOKEN_TTL"`
	// MFARequiredRoles is a comma-separated list of roles whose holders
	// obtain no tokens without a second factor.
	MFARequiredRoles string `yaml:"mfa_required_roles" env:"AUTHD_MFA_REQUIRED_ROLES"`
	// AdminRequireMFA makes the admin API require "otp" in the access
	// token's amr (a login with a TOTP code, or a step-up).
	AdminRequireMFA bool `yaml:"admin_require_mfa" env:"AUTHD_ADMIN_REQUIRE_MFA"`

	// Abuse resistance (config/abuse.go, README "Abuse resistance").
	// RateLimitEnabled turns the rate limits and the login backoff on.
	RateLimitEnabled bool `yaml:"ratelimit_enabled" env:"AUTHD_RATELIMIT_ENABLED"`
	// RateLimitKeyPrefix prefixes the limiter's keys in Redis.
	RateLimitKeyPrefix string `yaml:"ratelimit_key_prefix" env:"AUTHD_RATELIMIT_KEY_PREFIX"`
	// The limits, each "N/period[:burst]" (see ParseRateLimit): per
	// client IP, or per account (normalised email).
	RateLimitLoginIP       string `yaml:"ratelimit_login_ip" env:"AUTHD_RATELIMIT_LOGIN_IP"`
	RateLimitLoginAccount  string `yaml:"ratelimit_login_account" env:"AUTHD_RATELIMIT_LOGIN_ACCOUNT"`
	RateLimitRegisterIP    string `yaml:"ratelimit_register_ip" env:"AUTHD_RATELIMIT_REGISTER_IP"`
	RateLimitTokenIP       string `yaml:"ratelimit_token_ip" env:"AUTHD_RATELIMIT_TOKEN_IP"`
	RateLimitForgotIP      string `yaml:"ratelimit_forgot_ip" env:"AUTHD_RATELIMIT_FORGOT_IP"`
	RateLimitForgotAccount string `yaml:"ratelimit_forgot_account" env:"AUTHD_RATELIMIT_FORGOT_ACCOUNT"`
	// RateLimitEmailVerifyIP limits email verification and its resend;
	// its yaml and env names keep the "verify" deployed configurations use.
	RateLimitEmailVerifyIP string `yaml:"ratelimit_verify_ip" env:"AUTHD_RATELIMIT_VERIFY_IP"`
	RateLimitResetIP       string `yaml:"ratelimit_reset_ip" env:"AUTHD_RATELIMIT_RESET_IP"`
	RateLimitChangeIP      string `yaml:"ratelimit_change_ip" env:"AUTHD_RATELIMIT_CHANGE_IP"`
	RateLimitChangeAccount string `yaml:"ratelimit_change_account" env:"AUTHD_RATELIMIT_CHANGE_ACCOUNT"`
	// RateLimitClientID and RateLimitClientIP are failure budgets of
	// client authentication (the client_credentials grant), "N/period":
	// N failures of one client id, or from one client IP, are free within
	// a period; each further one doubles a wait (2 s, 4 s, … 15 min)
	// during which that id or IP gets 429 before any store read. The count
	// restarts after a period without a failure.
	RateLimitClientID string `yaml:"ratelimit_client_id" env:"AUTHD_RATELIMIT_CLIENT_ID"`
	RateLimitClientIP string `yaml:"ratelimit_client_ip" env:"AUTHD_RATELIMIT_CLIENT_IP"`
	// BcryptMaxConcurrent bounds the bcrypt computations running at once;
	// 0 means one per CPU when bcrypt runs niced (BcryptNice), else one per
	// CPU but one (at least 1).
	BcryptMaxConcurrent int `yaml:"bcrypt_max_concurrent" env:"AUTHD_BCRYPT_MAX_CONCURRENT"`
	// BcryptNice is the nice value of the threads that run bcrypt (1..19),
	// so that it takes only the CPU time requests leave; 0 runs it at
	// normal priority. Linux only: elsewhere it runs at normal priority.
	// The default, 10, weighs a bcrypt thread at about a tenth of a normal
	// one (110 against 1024): a request waking up on a CPU gets it almost
	// at once, yet logins still progress when everything is busy (at 19
	// they would stall behind any sustained load).
	BcryptNice int `yaml:"bcrypt_nice" env:"AUTHD_BCRYPT_NICE"`
	// BcryptMaxQueue bounds the requests waiting for a bcrypt slot; 0
	// means 4 × BcryptMaxConcurrent.
	BcryptMaxQueue int `yaml:"bcrypt_max_queue" env:"AUTHD_BCRYPT_MAX_QUEUE"`
	// BcryptMaxWait is how long a request waits for a slot before 503;
	// the default covers a burst of 4 × the slots (see admission).
	BcryptMaxWait time.Duration `yaml:"bcrypt_max_wait" env:"AUTHD_BCRYPT_MAX_WAIT"`
	// PasswordMinLength is the minimum length of new passwords, in code
	// points after NFKC; at least 8 (NIST SP 800-63B).
	PasswordMinLength int `yaml:"password_min_length" env:"AUTHD_PASSWORD_MIN_LENGTH"`
	// TLSCert and TLSKey are PEM files; set both to serve HTTPS (TLS 1.2+,
	// with HSTS) instead of HTTP.
	TLSCert string `yaml:"tls_cert" env:"AUTHD_TLS_CERT"`
	TLSKey  string `yaml:"tls_key" env:"AUTHD_TLS_KEY"`

	// MetricsAddr is where Prometheus metrics are served (/metrics), apart
	// from the API so they are not exposed with it; empty disables. The
	// default is loopback: in a container or pod, where Prometheus scrapes
	// the pod's address, set it to :9090 (the manifests do).
	MetricsAddr string `yaml:"metrics_addr" env:"AUTHD_METRICS_ADDR"`
	// PprofAddr serves net/http/pprof for profiling; empty (the default)
	// disables it, and it must be a loopback address.
	PprofAddr string `yaml:"pprof_addr" env:"AUTHD_PPROF_ADDR"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"AUTHD_LOG_LEVEL"`
	// LogFormat is json, text, or auto (text on a terminal, else JSON).
	LogFormat string `yaml:"log_format" env:"AUTHD_LOG_FORMAT"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"AUTHD_SHUTDOWN_TIMEOUT"`

	// AuditRetention is how long audit events are kept before a background
	// purge deletes them: whole days ("400d"), a Go duration, or off/0 to
	// keep them forever. At least one day.
	AuditRetention string `yaml:"audit_retention" env:"AUTHD_AUDIT_RETENTION"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:                ":8080",
		Issuer:              "http://localhost:8080",
		DataDir:             "./data",
		RedisKeyPrefix:      "authd:dl:",
		DenylistLayout:      "v1+v2",
		AccessTTL:           15 * time.Minute,
		RefreshTTL:          720 * time.Hour,
		RefreshReuseGrace:   10 * time.Second,
		Leeway:              5 * time.Second,
		VerifiedCacheSize:   10_000, // middleware.DefaultVerifiedCacheSize
		BcryptCost:          12,
		SigningAlg:          "ES256",
		ClientID:            "authd",
		AdminRole:           "admin",
		JWKSMaxAge:          5 * time.Minute,
		KeyReloadInterval:   time.Minute,
		KeyRotationInterval: 720 * time.Hour,
		VerifyTTL:           24 * time.Hour,
		ResetTTL:            30 * time.Minute,
		InviteTTL:           72 * time.Hour,
		MFATokenTTL:         5 * time.Minute,
		MetricsAddr:         "127.0.0.1:9090",
		LogLevel:            "info",
		LogFormat:           "auto",
		ShutdownTimeout:     15 * time.Second,
		AuditRetention:      "400d",

		RateLimitEnabled:       true,
		RateLimitKeyPrefix:     "authd:rl:",
		RateLimitLoginIP:       "20/1m:10",
		RateLimitLoginAccount:  "10/1m:5",
		RateLimitRegisterIP:    "20/1h:10",
		RateLimitTokenIP:       "300/1m:100",
		RateLimitForgotIP:      "10/1h:5",
		RateLimitForgotAccount: "5/1h:3",
		RateLimitEmailVerifyIP: "60/1h:20",
		RateLimitResetIP:       "20/1h:10",
		RateLimitChangeIP:      "20/1h:10",
		RateLimitChangeAccount: "10/1h:5",
		RateLimitClientID:      "10/1h",
		RateLimitClientIP:      "30/1h",
		BcryptMaxWait:          2 * time.Second,
		BcryptNice:             10,
		PasswordMinLength:      8,
	}
}

// EffectiveAudience returns Audience, or Issuer when Audience is empty.
func (c Config) EffectiveAudience() string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.Issuer
}

// KeyPublishAhead is how long a rotated-in key is published before it
// signs: every replica reloads keys within KeyReloadInterval, then every
// verifier refetches the JWKS within JWKSMaxAge; a minute of margin for
// clock skew.
func (c Config) KeyPublishAhead() time.Duration {
	return c.KeyReloadInterval + c.JWKSMaxAge + time.Minute
}

// MaxTokenLifetime is the longest a token signed by a key may live: a key
// that stopped signing stays published this long.
func (c Config) MaxTokenLifetime() time.Duration {
	return max(c.RefreshTTL, c.AccessTTL) + c.Leeway
}

// PublishedKeys is the most signing keys the JWKS holds at once under
// scheduled rotation (0 with rotation off: one key, plus any rotated by
// hand). A key is published from its creation, signs from KeyPublishAhead
// later until the next one signs, and stays for MaxTokenLifetime after
// that; a new key is created every max(KeyRotationInterval,
// KeyPublishAhead) at the soonest. So each key is published for one step
// plus the publish-ahead time plus the token lifetime, and that many steps
// overlap.
func (c Config) PublishedKeys() int {
	if c.KeyRotationInterval <= 0 {
		return 0
	}
	step := max(c.KeyRotationInterval, c.KeyPublishAhead())
	overlap := c.KeyPublishAhead() + c.MaxTokenLifetime()
	return 1 + int((overlap+step-1)/step)
}

// UsesPostgres reports whether DatabaseURL names a Postgres server.
func (c Config) UsesPostgres() bool { return isPostgresURL(c.DatabaseURL) }

// DatabaseBackend names the store DatabaseURL selects: its scheme, with
// "sqlite" for the embedded default and "postgres" for either Postgres
// spelling.
func (c Config) DatabaseBackend() string {
	scheme, _, ok := strings.Cut(c.DatabaseURL, ":")
	switch {
	case c.DatabaseURL == "" || !ok:
		return "sqlite"
	case scheme == "postgresql":
		return "postgres"
	}
	return scheme
}

// UsesSharedDatabase reports whether DatabaseURL names a database server
// that replicas share (anything but SQLite).
func (c Config) UsesSharedDatabase() bool { return c.DatabaseBackend() != "sqlite" }

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
