package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/pkg/token"
)

// RemoteKeySet defaults.
const (
	// DefaultCacheTTL is how long a set is fresh when the response has no
	// Cache-Control max-age.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultMinCacheTTL is the least time a set is fresh, whatever its
	// max-age says (also for no-cache and no-store).
	DefaultMinCacheTTL = time.Minute
	// DefaultMaxCacheTTL is the most time a set is fresh, whatever its
	// max-age says.
	DefaultMaxCacheTTL = 24 * time.Hour
	// DefaultRefetchInterval is the least time between two fetches: an
	// unknown kid costs at most one fetch per interval.
	DefaultRefetchInterval = 5 * time.Second
	// DefaultFetchTimeout bounds one fetch, discovery included.
	DefaultFetchTimeout = 10 * time.Second
	// maxRetryBackoff bounds the wait between background retries after
	// failed fetches.
	maxRetryBackoff = time.Minute
)

// discoveryPath is appended to the issuer to find its metadata.
const discoveryPath = "/.well-known/openid-configuration"

// Sentinel errors of a RemoteKeySet. A fetch failure is reported to
// Verify as an error matching token.ErrKeySetUnavailable only while no set
// has ever been fetched.
var (
	// ErrFetch matches every failed fetch of a JWK Set or discovery
	// document (network, status, size, content, issuer mismatch).
	ErrFetch = errors.New("middleware: key set fetch failed")
	// ErrClosed is returned by Refresh after Close.
	ErrClosed = errors.New("middleware: key set closed")
)

// remoteConfig is what the KeySetOptions set.
type remoteConfig struct {
	client          *http.Client
	timeout         time.Duration
	maxSize         int64
	refetchInterval time.Duration
	defaultTTL      time.Duration
	minTTL          time.Duration
	maxTTL          time.Duration
	now             func() time.Time
	logger          *slog.Logger
}

// RemoteKeySet is a token.KeySet fetched over HTTP from a JWK Set URL or
// through an issuer's discovery document. It is safe for concurrent use.
//
// Nothing is fetched until the first lookup. A set is then fresh for the
// response's Cache-Control max-age (bounded; see WithCacheTTL), and a
// background goroutine refetches it at three quarters of that, retrying
// with backoff after failures. A lookup of a known kid is a map read under
// an atomic pointer; a known kid in a set past its max-age is still served
// while a refetch runs. An unknown kid causes one refetch, at most once
// per refetch interval, concurrent misses waiting for the same fetch.
// A failed fetch keeps the last good set; with none, lookups fail with an
// error matching token.ErrKeySetUnavailable (so Verify answers 503).
//
// Close, or the end of the context given to the constructor, stops the
// background work; the set then keeps serving what it has without
// fetching.
type RemoteKeySet struct {
	cfg    remoteConfig
	source string // the JWK Set URL, or the issuer in discovery mode
	issuer bool   // source is an issuer: discover the JWK Set URL

	state atomic.Pointer[keyState]

	// life is the set's own lifetime, not a request's: fetches run under
	// it so that one caller giving up does not fail the others sharing the
	// fetch. Close cancels it.
	life   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{} // a fetch finished: the refresh loop reschedules

	// Written under mu, read without it too, so that lookups during a
	// fetch or within the refetch interval take no lock.
	inflight    atomic.Pointer[fetchCall]
	lastAttempt atomic.Int64 // start of the last fetch, Unix ns; 0: none yet
	// lifetime is the discovery document's DiscoveryAccessTokenLifetime
	// in ns; 0 until a document with one has been read.
	lifetime atomic.Int64

	mu       sync.Mutex
	lastErr  error  // of the last fetch, nil if it succeeded
	failures int    // consecutive failed fetches
	jwksURL  string // discovered (issuer mode); "" until then
	looping  bool   // the refresh loop runs
	closed   bool
}

var _ token.KeySet = (*RemoteKeySet)(nil)

// keyState is one fetched set, immutable once published.
type keyState struct {
	byID      map[string]*token.Key
	only      *token.Key // the key when there is exactly one
	fetchedAt time.Time
	ttl       time.Duration
}

func (s *keyState) lookup(kid string) *token.Key {
	if kid == "" {
		return s.only
	}
	return s.byID[kid]
}

// fetchCall is one fetch that concurrent callers share.
type fetchCall struct {
	done chan struct{}
	err  error // set before done is closed
}

// NewRemoteKeySet returns a key set fetched from the JWK Set at jwksURL
// (absolute http or https). ctx bounds its background work, as Close does;
// it is not used for fetching until the first lookup. Errors match
// ErrInvalidConfig.
func NewRemoteKeySet(ctx context.Context, jwksURL string, opts ...KeySetOption) (*RemoteKeySet, error) {
	return newRemoteKeySet(ctx, jwksURL, false, opts)
}

// NewDiscoveryKeySet returns a key set found through the discovery
// document of issuer (issuer, less a trailing slash, +
// "/.well-known/openid-configuration", as OpenID Connect Discovery §4
// builds it): its "jwks_uri" gives the JWK Set, and its "issuer" must
// equal issuer exactly, or the fetch fails. The document is read on the first fetch and
// again after a JWK Set fetch fails. Otherwise as NewRemoteKeySet.
func NewDiscoveryKeySet(ctx context.Context, issuer string, opts ...KeySetOption) (*RemoteKeySet, error) {
	return newRemoteKeySet(ctx, issuer, true, opts)
}

func newRemoteKeySet(ctx context.Context, source string, issuer bool, opts []KeySetOption) (*RemoteKeySet, error) {
	c := remoteConfig{
		timeout:         DefaultFetchTimeout,
		maxSize:         token.MaxJWKSSize,
		refetchInterval: DefaultRefetchInterval,
		defaultTTL:      DefaultCacheTTL,
		minTTL:          DefaultMinCacheTTL,
		maxTTL:          DefaultMaxCacheTTL,
		now:             time.Now,
		logger:          slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o.applyKeySet(&c)
		}
	}
	what := "JWK Set URL"
	if issuer {
		what = "issuer"
	}
	checks := []struct {
		bad bool
		err error
	}{
		{ctx == nil, errors.New("context must not be nil")},
		{checkHTTPURL(what, source) != nil, checkHTTPURL(what, source)},
		{c.timeout <= 0, errors.New("fetch timeout must be positive")},
		{c.maxSize <= 0 || c.maxSize > token.MaxJWKSSize, fmt.Errorf("max response size must be 1 to %d bytes", token.MaxJWKSSize)},
		{c.refetchInterval <= 0, errors.New("refetch interval must be positive")},
		{c.minTTL <= 0 || c.minTTL > c.maxTTL, errors.New("cache TTL bounds must satisfy 0 < min <= max")},
		{c.defaultTTL < c.minTTL || c.defaultTTL > c.maxTTL, errors.New("default cache TTL must lie within its bounds")},
		{c.now == nil, errors.New("clock must not be nil")},
	}
	var problems []error
	for _, ch := range checks {
		if ch.bad {
			problems = append(problems, ch.err)
		}
	}
	if len(problems) > 0 {
		return nil, configError("key set", problems)
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	life, cancel := context.WithCancel(ctx)
	return &RemoteKeySet{
		cfg:    c,
		source: source,
		issuer: issuer,
		life:   life,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
	}, nil
}

// VerificationKey implements token.KeySet. A kid the cached set does not
// know causes at most one fetch per refetch interval; then, or within the
// interval, it is reported as token.ErrUnknownKey. An empty kid matches
// only a set of exactly one key. With no set fetched yet the error matches
// token.ErrKeySetUnavailable; if ctx ends while waiting for a fetch, its
// error is returned (the fetch goes on for the others).
func (r *RemoteKeySet) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	if st := r.state.Load(); st != nil {
		if k := st.lookup(kid); k != nil {
			if !r.cfg.now().Before(st.fetchedAt.Add(st.ttl)) {
				r.startFetch(false) // stale: refetch in the background, serve meanwhile
			}
			return k, nil
		}
		if kid == "" {
			return nil, fmt.Errorf("%w: the token has no kid and the set has several keys", token.ErrUnknownKey)
		}
	}
	call := r.startFetch(false)
	if call != nil {
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for the key set: %w", token.ErrKeySetUnavailable, ctx.Err())
		}
	}
	// Whether or not this call fetched (another may have just now), the
	// current set is the answer.
	st := r.state.Load()
	if st == nil {
		return nil, r.unavailable()
	}
	if k := st.lookup(kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: kid not in the key set", token.ErrUnknownKey)
}

// unavailable is the error of a lookup with no set fetched.
func (r *RemoteKeySet) unavailable() error {
	r.mu.Lock()
	err := r.lastErr
	r.mu.Unlock()
	if err == nil {
		err = ErrClosed
	}
	return fmt.Errorf("%w: no key set fetched yet: %w", token.ErrKeySetUnavailable, err)
}

// Refresh fetches the set now, whatever the refetch interval, or waits for
// the fetch in flight, and returns its error. It suits a start-up check;
// lookups never need it.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	call := r.startFetch(true)
	if call == nil {
		return ErrClosed
	}
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AccessTokenLifetime returns the access-token lifetime the issuer's
// discovery document publishes (DiscoveryAccessTokenLifetime), once one
// has been read; false before, without discovery, or when the document has
// none. A Verifier using the set bounds exp - iat by it.
func (r *RemoteKeySet) AccessTokenLifetime() (time.Duration, bool) {
	d := time.Duration(r.lifetime.Load())
	return d, d > 0
}

// Close stops the background refresh and any fetch in flight and waits for
// them to end. The set keeps serving the keys it holds. Close is
// idempotent and returns nil.
func (r *RemoteKeySet) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}
