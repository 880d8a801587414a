package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/authd/authd/pkg/revocation"
	"github.com/authd/authd/pkg/token"
)

// Sentinel errors returned by Verify and the guards; match with errors.Is.
var (
	// ErrNoToken means the request carried no bearer token.
	ErrNoToken = errors.New("middleware: no bearer token")
	// ErrInvalidToken means the token failed verification (including
	// expiry and revocation).
	ErrInvalidToken = errors.New("middleware: invalid token")
	// ErrRevoked means the token was revoked; it also matches
	// ErrInvalidToken.
	ErrRevoked = errors.New("middleware: token revoked")
	// ErrUnavailable means the token could not be checked because a key set
	// or the denylist did not answer; under FailClosed the request is
	// answered 503 so that clients keep their (possibly valid) tokens.
	ErrUnavailable = errors.New("middleware: verification temporarily unavailable")
	// ErrInsufficientScope means a valid token lacks a role or scope a
	// guard requires (403). The error is an *InsufficientError.
	ErrInsufficientScope = errors.New("middleware: insufficient scope")
	// ErrInsufficientAuthentication means a valid token's user
	// authentication is too weak or too old for a guard (AuthMethods,
	// FreshAuth): the RFC 9470 step-up challenge, 401
	// insufficient_user_authentication. The error is an
	// *InsufficientError.
	ErrInsufficientAuthentication = errors.New("middleware: insufficient user authentication")
	// ErrInvalidConfig matches every error NewVerifier, NewRemoteKeySet and
	// NewDiscoveryKeySet return for bad options.
	ErrInvalidConfig = errors.New("middleware: invalid configuration")
)

// FailurePolicy decides what happens when the revocation check cannot be
// made.
type FailurePolicy int

const (
	// FailClosed refuses the request with ErrUnavailable (HTTP 503 with
	// Retry-After). The default: a revoked token never passes because Redis
	// is down.
	FailClosed FailurePolicy = iota
	// FailOpen accepts a token whose signature and claims are valid when
	// the denylist cannot be read, and logs a warning.
	FailOpen
)

// String returns "FailClosed" or "FailOpen".
func (p FailurePolicy) String() string {
	switch p {
	case FailClosed:
		return "FailClosed"
	case FailOpen:
		return "FailOpen"
	}
	return fmt.Sprintf("FailurePolicy(%d)", int(p))
}

// Verifier verifies access tokens. It is safe for concurrent use. Close
// it when it owns a remote key set (WithJWKSURL, WithDiscovery).
type Verifier struct {
	// verifyToken is tokens.Verify; tests wrap it to count the full
	// verifications.
	verifyToken func(ctx context.Context, raw string) (*token.Payload, error)
	tokens      *token.Checker
	keys        token.KeySet   // the key source, as given or built
	cache       *verifiedCache // nil when disabled
	now         func() time.Time
	leeway      time.Duration
	checker     revocation.Checker
	policy      FailurePolicy
	logger      *slog.Logger
	owned       *RemoteKeySet // built by NewVerifier; closed by Close

	maxLifetime time.Duration     // WithMaxTokenLifetime; 0: not given
	anyLifetime bool              // InsecureAllowAnyTokenLifetime
	published   lifetimePublisher // the key set, if it can tell the issuer's lifetime
}

// lifetimePublisher is a key set that knows its issuer's access-token
// lifetime (a RemoteKeySet in discovery mode).
type lifetimePublisher interface {
	AccessTokenLifetime() (time.Duration, bool)
}

// lifetimeBound is the longest exp - iat accepted, before the leeway; 0
// means no bound.
func (v *Verifier) lifetimeBound() time.Duration {
	switch {
	case v.anyLifetime:
		return 0
	case v.maxLifetime > 0:
		return v.maxLifetime
	}
	if v.published != nil {
		if d, ok := v.published.AccessTokenLifetime(); ok {
			return d
		}
	}
	return DefaultMaxTokenLifetime
}

// errLifetime is the cause of a refusal for a token that lives too long.
var errLifetime = errors.New("middleware: exp - iat exceeds the maximum token lifetime")

// lifetimeAllowed applies the lifetime bound.
func (v *Verifier) lifetimeAllowed(c *Claims) bool {
	return !token.ExceedsLifetime(c.IssuedAt, c.ExpiresAt, v.lifetimeBound(), v.leeway)
}

// NewVerifier returns a Verifier for access tokens (typ at+jwt). WithIssuer,
// WithAudience and exactly one key source (WithKeySet, WithJWKSURL or
// WithDiscovery) are required. Every configuration problem is reported at
// once; the error matches ErrInvalidConfig.
func NewVerifier(opts ...Option) (*Verifier, error) {
	c := newVerifierConfig()
	for _, o := range opts {
		if o != nil {
			o.applyVerifier(&c)
		}
	}
	var problems []error
	add := func(bad bool, msg string) {
		if bad {
			problems = append(problems, errors.New(msg))
		}
	}
	add(c.sources == 0, "a key source is required (WithKeySet, WithJWKSURL or WithDiscovery)")
	add(c.sources > 1, "only one key source may be given")
	add(c.sources == 1 && c.remote == remoteNone && c.keys == nil, "WithKeySet needs a non-nil key set")
	add(c.policy != FailClosed && c.policy != FailOpen, "unknown revocation failure policy")
	add(c.now == nil, "clock must not be nil")
	add(c.cacheSize < 0, "verified cache size must not be negative")
	add(c.maxLifetime < 0, "maximum token lifetime must be positive")
	add(c.maxLifetime > 0 && c.anyLifetime, "WithMaxTokenLifetime and InsecureAllowAnyTokenLifetime exclude each other")

	var owned *RemoteKeySet
	keys := c.keys
	if c.sources == 1 && c.remote != remoteNone {
		// The verifier's clock and logger first, so the caller's own
		// key set options win.
		ropts := append([]KeySetOption{WithClock(c.now), WithLogger(c.logger)}, c.remoteOpts...)
		var err error
		if c.remote == remoteDiscovery {
			owned, err = NewDiscoveryKeySet(context.Background(), c.issuer, ropts...)
		} else {
			owned, err = NewRemoteKeySet(context.Background(), c.jwksURL, ropts...)
		}
		if err != nil {
			problems = append(problems, err)
		} else {
			keys = owned
		}
	}
	if keys == nil {
		keys = token.StaticKeySet(nil) // a problem is already reported
	}
	topts := []token.CheckerOption{
		token.WithIssuer(c.issuer),
		token.WithAudience(c.audience...),
		token.WithType(token.TypeAccess),
		token.WithLeeway(c.leeway),
		token.WithClock(c.now),
	}
	if c.algs != nil {
		topts = append(topts, token.WithAllowedAlgorithms(c.algs...))
	}
	cache := newVerifiedCache(c.cacheSize, c.leeway)
	tokenKeys := keys
	if cache != nil {
		tokenKeys = recordingKeySet{keys}
	}
	tv, err := token.NewChecker(tokenKeys, topts...)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		if owned != nil {
			_ = owned.Close()
		}
		return nil, configError("verifier", problems)
	}
	published, _ := keys.(lifetimePublisher)
	return &Verifier{
		maxLifetime: c.maxLifetime,
		anyLifetime: c.anyLifetime,
		published:   published,
		verifyToken: tv.Verify,
		tokens:      tv,
		keys:        keys,
		cache:       cache,
		now:         c.now,
		leeway:      c.leeway,
		checker:     c.checker,
		policy:      c.policy,
		logger:      c.logger,
		owned:       owned,
	}, nil
}

// configError joins problems into one error matching ErrInvalidConfig.
func configError(what string, problems []error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, what, errors.Join(problems...))
}

// Close stops the background refresh of a key set the Verifier built
// (WithJWKSURL, WithDiscovery); a key set given with WithKeySet stays the
// caller's to close. Close is idempotent and always returns nil.
func (v *Verifier) Close() error {
	if v != nil && v.owned != nil {
		return v.owned.Close()
	}
	return nil
}

// Verify checks raw and, if it is a valid unrevoked access token, returns
// its claims. Errors match ErrNoToken, ErrInvalidToken (and ErrRevoked), or
// ErrUnavailable, wrapping the cause for logs; the cause never contains the
// token.
//
// A token string verified before may be answered from the verified-token
// cache (WithVerifiedCache): its lifetime and key are checked again and
// the revocation check runs as for any token. The claims returned are the
// caller's own copy either way.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" {
		return nil, ErrNoToken
	}
	var c *Claims
	if v.cache != nil {
		c = v.cached(ctx, raw)
	}
	if c == nil {
		var err error
		if c, err = v.verify(ctx, raw); err != nil {
			return nil, err
		}
	}
	if v.checker == nil {
		return c, nil
	}
	err := v.checker.Check(ctx, revocation.Token{JTI: c.TokenID, SID: c.SessionID, Subject: c.Subject, IssuedAt: c.IssuedAt})
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, revocation.ErrRevoked):
		return nil, fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrRevoked, err)
	case v.policy == FailOpen:
		v.logger.LogAttrs(ctx, slog.LevelWarn, "revocation check unavailable; accepting token (FailOpen)",
			slog.String("sub", c.Subject), slog.String("jti", c.TokenID), slog.Any("error", err))
		return c, nil
	default:
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// verify runs the full verification of raw (pkg/token) and caches the
// result when it passes.
func (v *Verifier) verify(ctx context.Context, raw string) (*Claims, error) {
	var rec *keyRecord
	if v.cache != nil {
		rec = new(keyRecord)
		ctx = context.WithValue(ctx, keyRecordKey{}, rec)
	}
	tc, err := v.verifyToken(ctx, raw)
	if err != nil {
		if errors.Is(err, token.ErrKeySetUnavailable) {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	c := &Claims{
		Issuer:    tc.Issuer,
		Subject:   tc.Subject,
		Audience:  tc.Audience,
		ClientID:  tc.ClientID,
		SessionID: tc.SessionID,
		TokenID:   tc.ID,
		Roles:     tc.Roles,
		Scope:     tc.Scope,
		AMR:       tc.AMR,
		IssuedAt:  tc.IssuedAt.Time,
		ExpiresAt: tc.ExpiresAt.Time,
	}
	if tc.AuthTime != nil {
		c.AuthTime = tc.AuthTime.Time
	}
	if !v.lifetimeAllowed(c) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errLifetime)
	}
	if v.cache != nil {
		var nbf time.Time
		if tc.NotBefore != nil {
			nbf = tc.NotBefore.Time
		}
		v.store(raw, c, rec, nbf)
	}
	return c, nil
}

// checkHTTPURL reports a URL that is not absolute http(s).
func checkHTTPURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains([]string{"http", "https"}, u.Scheme) || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http or https URL", what, raw)
	}
	return nil
}
