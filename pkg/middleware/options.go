package middleware

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/authd/authd/pkg/revocation"
	"github.com/authd/authd/pkg/token"
)

// Option configures a Verifier (NewVerifier).
type Option interface {
	applyVerifier(*verifierConfig)
}

// KeySetOption configures a RemoteKeySet (NewRemoteKeySet,
// NewDiscoveryKeySet, or through WithJWKSURL and WithDiscovery).
type KeySetOption interface {
	applyKeySet(*remoteConfig)
}

// SharedOption configures either a Verifier or a RemoteKeySet, so that one
// name, such as WithClock, serves both.
type SharedOption interface {
	Option
	KeySetOption
}

type verifierOption func(*verifierConfig)

func (f verifierOption) applyVerifier(c *verifierConfig) { f(c) }

type keySetOption func(*remoteConfig)

func (f keySetOption) applyKeySet(c *remoteConfig) { f(c) }

// verifierConfig is what the Verifier options set.
type verifierConfig struct {
	issuer     string
	audience   []string
	algs       []string
	leeway     time.Duration
	sources    int // key sources given; exactly one is valid
	keys       token.KeySet
	remote     remoteKind // WithJWKSURL or WithDiscovery
	jwksURL    string
	remoteOpts []KeySetOption
	checker    revocation.Checker
	policy     FailurePolicy
	now        func() time.Time
	logger     *slog.Logger
	cacheSize  int
	// maxLifetime is WithMaxTokenLifetime's bound (0: not given);
	// anyLifetime is InsecureAllowAnyTokenLifetime.
	maxLifetime time.Duration
	anyLifetime bool
}

// remoteKind is the remote key source a Verifier builds, if any.
type remoteKind int

const (
	remoteNone remoteKind = iota
	remoteJWKS
	remoteDiscovery
)

func newVerifierConfig() verifierConfig {
	return verifierConfig{
		leeway:    token.DefaultLeeway,
		now:       time.Now,
		logger:    slog.New(slog.DiscardHandler),
		cacheSize: DefaultVerifiedCacheSize,
	}
}

// WithIssuer sets the required "iss" (required). WithDiscovery also reads
// the discovery document from it.
func WithIssuer(iss string) Option {
	return verifierOption(func(c *verifierConfig) { c.issuer = iss })
}

// WithAudience sets the accepted audiences; a token's "aud" must name one
// (required).
func WithAudience(aud ...string) Option {
	aud = slices.Clone(aud)
	return verifierOption(func(c *verifierConfig) { c.audience = aud })
}

// WithAllowedAlgorithms restricts the accepted signing algorithms to a
// non-empty subset of token.ES256, token.EdDSA and token.RS256 (default:
// all three). A token's alg must also be its key's own algorithm.
func WithAllowedAlgorithms(algs ...string) Option {
	algs = append([]string{}, algs...) // never nil: an empty list is refused, not "all"
	return verifierOption(func(c *verifierConfig) { c.algs = algs })
}

// WithLeeway sets the allowed clock skew on exp, nbf and iat (default
// token.DefaultLeeway, 5s; at most token.MaxLeeway, 60s).
func WithLeeway(d time.Duration) Option {
	return verifierOption(func(c *verifierConfig) { c.leeway = d })
}

// DefaultMaxTokenLifetime bounds exp - iat (plus the leeway) when neither
// WithMaxTokenLifetime nor the issuer's discovery document
// (DiscoveryAccessTokenLifetime) says otherwise: authd's access tokens
// live 15 minutes by default, and an issuer configured for longer should
// publish it or be configured explicitly rather than have every verifier
// accept days-long tokens.
const DefaultMaxTokenLifetime = time.Hour

// WithMaxTokenLifetime refuses an access token whose exp - iat exceeds d
// plus the leeway: d is the issuer's access-token lifetime (authd's
// AUTHD_ACCESS_TTL), so that a token minted with a stolen signing key
// cannot live longer than the issuer ever issues. Without it the bound is
// the issuer's published lifetime (WithDiscovery, or a RemoteKeySet built
// by NewDiscoveryKeySet, reading DiscoveryAccessTokenLifetime), else
// DefaultMaxTokenLifetime. d must be positive.
func WithMaxTokenLifetime(d time.Duration) Option {
	return verifierOption(func(c *verifierConfig) { c.maxLifetime = d })
}

// InsecureAllowAnyTokenLifetime turns the token lifetime bound off: a
// token minted with a stolen key may then claim any exp. It exists for
// issuers whose lifetimes vary without limit; prefer WithMaxTokenLifetime.
func InsecureAllowAnyTokenLifetime() Option {
	return verifierOption(func(c *verifierConfig) { c.anyLifetime = true })
}

// WithKeySet sets where verification keys come from: any token.KeySet,
// such as a token.StaticKeySet (see StaticKeysFromPEM) or a RemoteKeySet
// the caller manages and closes. It is one of the three key sources, of
// which exactly one must be given.
func WithKeySet(ks token.KeySet) Option {
	return verifierOption(func(c *verifierConfig) {
		c.sources++
		c.keys = ks
	})
}

// WithJWKSURL makes the Verifier fetch its keys from the JWK Set at
// jwksURL, as a RemoteKeySet configured by opts that Verifier.Close stops.
// It is one of the three key sources.
func WithJWKSURL(jwksURL string, opts ...KeySetOption) Option {
	opts = slices.Clone(opts)
	return verifierOption(func(c *verifierConfig) {
		c.sources++
		c.remote, c.jwksURL, c.remoteOpts = remoteJWKS, jwksURL, opts
	})
}

// WithDiscovery makes the Verifier find its JWK Set through the issuer's
// discovery document (WithIssuer + "/.well-known/openid-configuration",
// whose "issuer" must equal WithIssuer's), as a RemoteKeySet configured by
// opts that Verifier.Close stops. It is one of the three key sources.
func WithDiscovery(opts ...KeySetOption) Option {
	opts = slices.Clone(opts)
	return verifierOption(func(c *verifierConfig) {
		c.sources++
		c.remote, c.remoteOpts = remoteDiscovery, opts
	})
}

// WithRevocation enables the denylist check with the policy for when the
// denylist does not answer: FailClosed (503) or FailOpen (accept and log).
// With denylist.NewRedis the check is one round trip per request; with a
// denylist.Mirror it is an in-memory lookup, and the mirror answers
// "unavailable" while it is out of sync with Redis, so FailClosed then
// refuses with 503 rather than trust a stale copy.
func WithRevocation(checker revocation.Checker, policy FailurePolicy) Option {
	return verifierOption(func(c *verifierConfig) { c.checker, c.policy = checker, policy })
}

// WithVerifiedCache sets how many verified token strings the Verifier
// remembers (default DefaultVerifiedCacheSize); 0 disables the cache and a
// negative size is a configuration error. A repeated token is then
// answered without its signature check: its exp, nbf and iat are checked
// again against the clock with the same leeway, its kid must still give
// the key that verified it (a key removed from or replaced in the key set
// ends its tokens' entries), and the revocation check runs every time.
// Only tokens that passed are cached. Memory is about 1 KB per entry
// (the token string and its claims).
func WithVerifiedCache(size int) Option {
	return verifierOption(func(c *verifierConfig) { c.cacheSize = size })
}

// WithClock sets the time source (default time.Now): token lifetimes for a
// Verifier; cache expiry and the refetch rate limit for a RemoteKeySet. A
// Verifier passes its clock on to the key set it builds. Tests inject one
// to reach expiry without sleeping.
func WithClock(now func() time.Time) SharedOption {
	return clockOption(now)
}

type clockOption func() time.Time

func (o clockOption) applyVerifier(c *verifierConfig) { c.now = o }
func (o clockOption) applyKeySet(c *remoteConfig)     { c.now = o }

// WithLogger sets the logger for fail-open events (Verifier) and for key
// fetch failures (RemoteKeySet); a Verifier passes it on to the key set it
// builds. The default discards. Tokens are never logged.
func WithLogger(l *slog.Logger) SharedOption {
	return loggerOption{l}
}

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) applyVerifier(c *verifierConfig) {
	if o.l != nil {
		c.logger = o.l
	}
}

func (o loggerOption) applyKeySet(c *remoteConfig) {
	if o.l != nil {
		c.logger = o.l
	}
}

// WithHTTPClient sets the client that fetches the JWK Set and discovery
// document (default: a client of its own on http.DefaultTransport). Its
// Timeout, if any, applies on top of WithFetchTimeout.
func WithHTTPClient(client *http.Client) KeySetOption {
	return keySetOption(func(c *remoteConfig) { c.client = client })
}

// WithFetchTimeout bounds one fetch, discovery included (default
// DefaultFetchTimeout).
func WithFetchTimeout(d time.Duration) KeySetOption {
	return keySetOption(func(c *remoteConfig) { c.timeout = d })
}

// WithMaxResponseSize caps the bytes read of one response (default and
// maximum token.MaxJWKSSize); a larger response fails the fetch.
func WithMaxResponseSize(n int64) KeySetOption {
	return keySetOption(func(c *remoteConfig) { c.maxSize = n })
}

// WithRefetchInterval sets the least time between two fetches, except an
// explicit Refresh (default DefaultRefetchInterval): an unknown kid within
// it is refused without a fetch, and a failed fetch is retried no sooner.
func WithRefetchInterval(d time.Duration) KeySetOption {
	return keySetOption(func(c *remoteConfig) { c.refetchInterval = d })
}

// WithCacheTTL sets how long a fetched set is fresh: def when the response
// has no Cache-Control max-age, and bounds lo..hi applied to any max-age
// (defaults DefaultCacheTTL, DefaultMinCacheTTL, DefaultMaxCacheTTL).
// "no-cache" and "no-store" count as lo.
func WithCacheTTL(def, lo, hi time.Duration) KeySetOption {
	return keySetOption(func(c *remoteConfig) { c.defaultTTL, c.minTTL, c.maxTTL = def, lo, hi })
}
