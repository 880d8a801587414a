package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/pkg/redisurl"
)

// Limits on durations: long enough to be useful, short enough to be safe.
const (
	maxLeeway  = time.Minute
	minBcrypt  = 10 // below OWASP's floor
	maxBcrypt  = 16 // ~17 s per hash here; more is a denial of service
	masterSize = 32
	// maxPublishedKeys bounds the JWKS: every verifier fetches, parses and
	// holds every key in it, and a token's kid is looked up among them.
	maxPublishedKeys = 32
)

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DatabaseSchemes are the AUTHD_DATABASE_URL schemes authd accepts, as
// plain strings (config imports nothing of authd); internal/app's tests
// check them against the store backends the binary registers.
var DatabaseSchemes = []string{"sqlite", "postgres", "postgresql", "mysql", "mongodb", "mongodb+srv"}

// databaseURLProblem is the one line that rejects a malformed or unknown
// AUTHD_DATABASE_URL, naming the accepted forms ("" when it is fine).
func databaseURLProblem(s string) string {
	if s == "" || validDatabaseURL(s) {
		return ""
	}
	return "must be empty (SQLite in AUTHD_DATA_DIR) or a URL of one of the schemes sqlite:PATH, postgres://, postgresql://, mysql://, mongodb://, mongodb+srv:// (e.g. mysql://user:pass@host:3306/db)"
}

func validDatabaseURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !slices.Contains(DatabaseSchemes, scheme) {
		return false
	}
	if scheme == "sqlite" {
		path, _, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
		return path != ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	// A server URL names its database (MongoDB's may leave it to the
	// driver's default).
	return strings.HasPrefix(scheme, "mongodb") || strings.Trim(u.Path, "/") != ""
}

// check is one validation row: when bad, the setting name is reported
// with msg.
type check struct {
	bad  bool
	name string
	msg  string
}

// validate returns one problem per invalid setting, each naming its
// environment variable.
func (c Config) validate() []string {
	keysBad, keysMsg := c.tooManyKeys()
	var redisErr error
	if c.RedisURL != "" {
		_, redisErr = redisurl.Parse(c.RedisURL)
	}
	checks := []check{
		{!validHostPort(c.Addr), "AUTHD_ADDR", "must be host:port or :port, e.g. :8080"},
		{!validHTTPURL(c.Issuer), "AUTHD_ISSUER", "must be an absolute http(s) URL without query or fragment, e.g. https://auth.example.com"},
		{c.DataDir == "", "AUTHD_DATA_DIR", "must not be empty"},
		{databaseURLProblem(c.DatabaseURL) != "", "AUTHD_DATABASE_URL", databaseURLProblem(c.DatabaseURL)},
		{redisErr != nil, "AUTHD_REDIS_URL", fmt.Sprintf("must be empty (in-process denylist) or one of %s (%v)", redisurl.Forms, redisErr)},
		{c.DenylistLayout != "v1+v2" && c.DenylistLayout != "v2", "AUTHD_DENYLIST_LAYOUT", "must be v1+v2 (during an upgrade from a release that knows only v1) or v2"},
		{c.RedisKeyPrefix == "", "AUTHD_REDIS_KEY_PREFIX", "must not be empty"},
		{c.RedisMinReplicasAck < 0 || c.RedisMinReplicasAck > 16, "AUTHD_REDIS_MIN_REPLICAS_ACK", "must be between 0 (off) and 16"},
		{c.RedisMinReplicasAck > 0 && c.RedisURL == "", "AUTHD_REDIS_MIN_REPLICAS_ACK", "needs AUTHD_REDIS_URL: the in-process denylist has no replicas"},
		{c.RedisReplicaAckTimeout < 10*time.Millisecond || c.RedisReplicaAckTimeout > 900*time.Millisecond, "AUTHD_REDIS_REPLICA_ACK_TIMEOUT", "must be between 10ms and 900ms (below the 1s Redis read timeout)"},
		{c.DenylistSyncInterval < 100*time.Millisecond || c.DenylistSyncInterval > time.Minute, "AUTHD_DENYLIST_SYNC_INTERVAL", "must be between 100ms and 1m"},
		{c.RevocationMirror && c.RedisURL == "", "AUTHD_REVOCATION_MIRROR", "needs AUTHD_REDIS_URL: it mirrors the Redis denylist (the in-process one is already local)"},
		{c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour, "AUTHD_ACCESS_TTL", "must be between 1m and 24h"},
		{c.RefreshTTL < c.AccessTTL || c.RefreshTTL > 8760*time.Hour, "AUTHD_REFRESH_TTL", "must be at least AUTHD_ACCESS_TTL and at most 8760h"},
		{c.RefreshReuseGrace < 0 || c.RefreshReuseGrace > time.Minute, "AUTHD_REFRESH_REUSE_GRACE", "must be between 0s and 1m"},
		{c.Leeway < 0 || c.Leeway > maxLeeway, "AUTHD_LEEWAY", "must be between 0s and 1m"},
		{c.VerifiedCacheSize < 0 || c.VerifiedCacheSize > 1_000_000, "AUTHD_VERIFIED_CACHE_SIZE", "must be between 0 (off) and 1000000"},
		{c.BcryptCost < minBcrypt || c.BcryptCost > maxBcrypt, "AUTHD_BCRYPT_COST", "must be between 10 and 16"},
		{c.SigningAlg != "ES256" && c.SigningAlg != "EdDSA" && c.SigningAlg != "RS256", "AUTHD_SIGNING_ALG", "must be ES256, EdDSA or RS256"},
		{c.MasterKey != "" && !validMasterKey(c.MasterKey), "AUTHD_MASTER_KEY", "must be the base64 encoding of exactly 32 bytes (e.g. openssl rand -base64 32)"},
		{c.MasterKey == "" && c.UsesSharedDatabase(), "AUTHD_MASTER_KEY", "is required with Postgres, MySQL or MongoDB (a database server replicas share) so that every replica can open the shared signing keys (e.g. openssl rand -base64 32)"},
		{strings.TrimSpace(c.ClientID) == "", "AUTHD_CLIENT_ID", "must not be empty"},
		{c.JWKSMaxAge < 0 || c.JWKSMaxAge > 24*time.Hour, "AUTHD_JWKS_MAX_AGE", "must be between 0s and 24h"},
		{c.KeyRotationInterval != 0 && c.KeyRotationInterval < time.Hour, "AUTHD_KEY_ROTATION_INTERVAL", "must be 0 (off) or at least 1h"},
		{c.KeyReloadInterval < time.Second, "AUTHD_KEY_RELOAD_INTERVAL", "must be at least 1s"},
		{keysBad, "AUTHD_KEY_ROTATION_INTERVAL", keysMsg},
		{(c.IntrospectionClientID == "") != (c.IntrospectionClientSecret == ""), "AUTHD_INTROSPECTION_CLIENT_SECRET", "and AUTHD_INTROSPECTION_CLIENT_ID must be set together"},
		{c.IntrospectionClientSecret != "" && len(c.IntrospectionClientSecret) < 16, "AUTHD_INTROSPECTION_CLIENT_SECRET", "must be at least 16 characters (e.g. openssl rand -base64 24)"},
		{c.MetricsAddr != "" && !validHostPort(c.MetricsAddr), "AUTHD_METRICS_ADDR", "must be off or host:port, e.g. 127.0.0.1:9090 (:9090 in a pod that Prometheus scrapes)"},
		{c.MetricsAddr != "" && c.MetricsAddr == c.Addr, "AUTHD_METRICS_ADDR", "must differ from AUTHD_ADDR"},
		{c.PprofAddr != "" && !loopbackHostPort(c.PprofAddr), "AUTHD_PPROF_ADDR", "must be empty (off) or a loopback host:port, e.g. 127.0.0.1:6060"},
		{!slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel), "AUTHD_LOG_LEVEL", "must be debug, info, warn or error"},
		{!slices.Contains([]string{"auto", "json", "text"}, c.LogFormat), "AUTHD_LOG_FORMAT", "must be auto, json or text"},
		{c.ShutdownTimeout <= 0, "AUTHD_SHUTDOWN_TIMEOUT", "must be positive"},
	}
	checks = append(checks, c.mailChecks()...)
	checks = append(checks, c.abuseChecks()...)
	checks = append(checks, c.mfaChecks()...)
	checks = append(checks, c.retentionChecks()...)
	var problems []string
	for _, ch := range checks {
		if ch.bad {
			problems = append(problems, problem(ch.name, "%s", ch.msg))
		}
	}
	return problems
}

// tooManyKeys reports a rotation interval so short against the refresh
// TTL that the JWKS would hold more than maxPublishedKeys keys, with the
// message naming both settings and the shortest interval that fits.
func (c Config) tooManyKeys() (bool, string) {
	n := c.PublishedKeys()
	if c.KeyRotationInterval < time.Hour || n <= maxPublishedKeys {
		return false, ""
	}
	// n <= max needs step >= (publish-ahead + token lifetime) / (max - 1),
	// rounded up to the minute.
	overlap := c.KeyPublishAhead() + c.MaxTokenLifetime()
	least := (overlap + maxPublishedKeys - 2) / (maxPublishedKeys - 1)
	least = (least + time.Minute - 1).Truncate(time.Minute)
	return true, fmt.Sprintf("%s with AUTHD_REFRESH_TTL %s would publish %d keys at once in the JWKS (at most %d: a key stays published for AUTHD_REFRESH_TTL + AUTHD_LEEWAY after it stops signing); set AUTHD_KEY_ROTATION_INTERVAL to at least %s or shorten AUTHD_REFRESH_TTL",
		shortDuration(c.KeyRotationInterval), shortDuration(c.RefreshTTL), n, maxPublishedKeys, shortDuration(least))
}

// shortDuration prints d without zero minutes and seconds: 720h, not
// 720h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func validHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	return err == nil && port != ""
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && !strings.HasSuffix(s, "/")
}

// MasterKeyBytes decodes a base64 master key (standard or URL alphabet).
func MasterKeyBytes(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(strings.TrimSpace(s)); err == nil && len(b) == masterSize {
			return b, true
		}
	}
	return nil, false
}

func validMasterKey(s string) bool {
	_, ok := MasterKeyBytes(s)
	return ok
}

// loopbackHostPort accepts only an explicit loopback host: profiles reveal
// memory contents and must not be reachable from the network.
func loopbackHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
