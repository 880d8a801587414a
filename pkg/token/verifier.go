package token

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Checker defaults and bounds.
const (
	// DefaultLeeway is the clock-skew allowance when WithLeeway is not
	// given.
	DefaultLeeway = 5 * time.Second
	// MaxLeeway bounds WithLeeway: skew is seconds, not minutes.
	MaxLeeway = 60 * time.Second
	// MaxTokenSize is the longest token Verify parses, in bytes; longer
	// input is refused before any decoding.
	MaxTokenSize = 8 << 10
)

// CheckerOption configures a Checker. Options take effect only in
// NewChecker; applying one to an existing Checker changes nothing.
type CheckerOption func(*Checker)

// verifierConfig is what the options set; NewChecker checks it and builds
// the Checker's state from it.
type verifierConfig struct {
	issuer   string
	audience []string
	typ      string
	algs     []string
	leeway   time.Duration
	maxLife  time.Duration
	now      func() time.Time
	macKeys  MACKeySet
}

// Checker verifies tokens of one type for one issuer and audience: the
// signature and the claims (pkg/middleware.Verifier adds key fetching,
// caching and revocation on top of it). It is safe
// for concurrent use.
type Checker struct {
	cfg verifierConfig // options write here; read only by NewChecker

	keys    KeySet
	typ     string
	algs    algSet
	refresh bool        // the type needs a sid
	macKeys MACKeySet   // nil unless HS256 refresh tokens are accepted
	parser  *jwt.Parser // nil unless built by NewChecker

	leeway      time.Duration
	maxLifetime time.Duration // 0: exp - iat is not bounded
}

// NewChecker returns a Checker; WithIssuer and WithAudience are required.
// Defaults: type TypeAccess, leeway DefaultLeeway, algorithms ES256, EdDSA
// and RS256, clock time.Now. Every configuration problem is reported at
// once; an unknown algorithm also matches ErrUnsupportedAlg.
func NewChecker(keys KeySet, opts ...CheckerOption) (*Checker, error) {
	v := &Checker{cfg: verifierConfig{
		typ:    TypeAccess,
		algs:   []string{ES256, EdDSA, RS256},
		leeway: DefaultLeeway,
		now:    time.Now,
	}}
	for _, o := range opts {
		if o != nil {
			o(v)
		}
	}
	c := v.cfg
	algs, algErr := newAlgSet(c.algs)
	checks := []struct {
		bad bool
		err error
	}{
		{keys == nil, errors.New("a key set is required")},
		{c.issuer == "", errors.New("WithIssuer is required")},
		{len(c.audience) == 0, errors.New("WithAudience is required")},
		{slices.Contains(c.audience, ""), errors.New("an audience must not be empty")},
		{c.typ != TypeAccess && c.typ != TypeRefresh, fmt.Errorf("type %q is neither %s nor %s", c.typ, TypeAccess, TypeRefresh)},
		{algErr != nil, algErr},
		{c.leeway < 0, errors.New("leeway must not be negative")},
		{c.leeway > MaxLeeway, fmt.Errorf("leeway %v exceeds %v", c.leeway, MaxLeeway)},
		{c.maxLife < 0, errors.New("maximum token lifetime must not be negative")},
		{c.now == nil, errors.New("clock must not be nil")},
		{c.macKeys != nil && c.typ != TypeRefresh, fmt.Errorf("WithMACKeys needs WithType(%s): access tokens are verified with public keys only", TypeRefresh)},
	}
	var problems []error
	for _, ch := range checks {
		if ch.bad {
			problems = append(problems, ch.err)
		}
	}
	if len(problems) > 0 {
		return nil, &configError{what: "token: invalid verifier options", problems: problems}
	}

	v.keys = keys
	v.typ = c.typ
	v.algs = algs
	v.refresh = c.typ == TypeRefresh
	v.macKeys = c.macKeys
	v.leeway = c.leeway
	v.maxLifetime = c.maxLife
	methods := algs.names()
	if v.macKeys != nil {
		methods = append(methods, HS256)
	}
	// Built once: the parser is immutable and safe for concurrent use.
	v.parser = jwt.NewParser(
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(c.issuer),
		jwt.WithAudience(slices.Clone(c.audience)...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.leeway),
		jwt.WithTimeFunc(c.now),
	)
	return v, nil
}

// WithIssuer sets the required "iss".
func WithIssuer(iss string) CheckerOption {
	return func(v *Checker) { v.cfg.issuer = iss }
}

// WithAudience sets the accepted audiences, replacing any set before; the
// token's "aud" must name at least one of them.
func WithAudience(aud ...string) CheckerOption {
	aud = slices.Clone(aud)
	return func(v *Checker) { v.cfg.audience = aud }
}

// WithType sets the required "typ": TypeAccess (the default) or
// TypeRefresh, which also requires a "sid" claim.
func WithType(typ string) CheckerOption {
	return func(v *Checker) { v.cfg.typ = typ }
}

// WithAllowedAlgorithms restricts the accepted algorithms to a non-empty
// subset of ES256, EdDSA and RS256 (default all three). A token's alg must
// also be its key's own algorithm.
func WithAllowedAlgorithms(algs ...string) CheckerOption {
	algs = slices.Clone(algs)
	return func(v *Checker) { v.cfg.algs = algs }
}

// WithMACKeys also accepts HS256 tokens whose kid the set knows, MACed by
// SignMAC; the asymmetric algorithms stay accepted as configured. It is
// only allowed with WithType(TypeRefresh): a refresh token is read by its
// issuer alone, while access tokens must verify from the public JWKS.
func WithMACKeys(set MACKeySet) CheckerOption {
	return func(v *Checker) { v.cfg.macKeys = set }
}

// WithLeeway sets the clock-skew allowance applied to exp, nbf and iat
// (default DefaultLeeway, at most MaxLeeway).
func WithLeeway(d time.Duration) CheckerOption {
	return func(v *Checker) { v.cfg.leeway = d }
}

// WithMaxLifetime refuses a token whose exp - iat exceeds d plus the
// leeway: d is the longest lifetime the issuer gives its tokens (authd's
// AUTHD_ACCESS_TTL), so that a token minted with a stolen key cannot
// outlive what the issuer would ever sign. 0, the default, sets no bound;
// a negative d is a configuration error.
func WithMaxLifetime(d time.Duration) CheckerOption {
	return func(v *Checker) { v.cfg.maxLife = d }
}

// WithClock sets the time source (default time.Now).
func WithClock(now func() time.Time) CheckerOption {
	return func(v *Checker) { v.cfg.now = now }
}

// algSet is a set of supported algorithms.
type algSet uint8

func algBit(alg string) algSet {
	switch alg {
	case ES256:
		return 1
	case EdDSA:
		return 2
	case RS256:
		return 4
	}
	return 0
}

func newAlgSet(algs []string) (algSet, error) {
	if len(algs) == 0 {
		return 0, fmt.Errorf("%w: the allowed algorithm list is empty", ErrUnsupportedAlg)
	}
	var s algSet
	for _, a := range algs {
		b := algBit(a)
		if b == 0 {
			return 0, fmt.Errorf("%w: %q (want %s, %s or %s)", ErrUnsupportedAlg, a, ES256, EdDSA, RS256)
		}
		s |= b
	}
	return s, nil
}

func (s algSet) has(alg string) bool { return s&algBit(alg) != 0 }

func (s algSet) names() []string {
	var out []string
	for _, a := range []string{ES256, EdDSA, RS256} {
		if s.has(a) {
			out = append(out, a)
		}
	}
	return out
}
