package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrUnknownBackend means no backend registered the scheme of a database
// URL: the URL is wrong, or this binary does not link that backend.
var ErrUnknownBackend = errors.New("store: no backend for this URL scheme")

// OpenConfig is what every backend's opener is given besides the URL.
type OpenConfig struct {
	// Logger receives migration and housekeeping logs; never nil.
	Logger *slog.Logger
	// Now is the clock for the times the store fills in itself; never nil.
	Now func() time.Time
}

// OpenOption adjusts an OpenConfig.
type OpenOption func(*OpenConfig)

// WithLogger sets OpenConfig.Logger (default: discard).
func WithLogger(l *slog.Logger) OpenOption { return func(c *OpenConfig) { c.Logger = l } }

// WithClock sets OpenConfig.Now (default: time.Now).
func WithClock(now func() time.Time) OpenOption { return func(c *OpenConfig) { c.Now = now } }

// Opener connects to the database named by url (whose scheme the opener
// registered) and checks that it answers. It does not migrate.
type Opener func(ctx context.Context, url string, cfg OpenConfig) (Store, error)

var registry struct {
	mu      sync.RWMutex
	openers map[string]Opener
}

// Register makes scheme (the part of a database URL before the first ':',
// lower case: "postgres", "mysql", "sqlite") open with o. A backend
// registers its schemes from an init function; the binary selects the
// backends it links with blank imports. Registering a scheme twice, or an
// empty scheme or nil opener, panics: it is a programming error.
func Register(scheme string, o Opener) {
	if scheme == "" || scheme != strings.ToLower(scheme) || strings.ContainsAny(scheme, ":/") || o == nil {
		panic(fmt.Sprintf("store: Register(%q): invalid scheme or nil opener", scheme))
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.openers == nil {
		registry.openers = make(map[string]Opener)
	}
	if _, dup := registry.openers[scheme]; dup {
		panic(fmt.Sprintf("store: Register(%q): registered twice", scheme))
	}
	registry.openers[scheme] = o
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := make([]string, 0, len(registry.openers))
	for s := range registry.openers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Scheme returns the scheme of a database URL, lower-cased: what precedes
// the first ':' ("" when there is none).
func Scheme(url string) string {
	s, _, ok := strings.Cut(url, ":")
	if !ok {
		return ""
	}
	return strings.ToLower(s)
}

// Open opens the store named by url with the backend registered for its
// scheme. An unregistered scheme is ErrUnknownBackend, naming the scheme
// and the ones this binary links (never the URL, which may hold a
// password).
func Open(ctx context.Context, url string, opts ...OpenOption) (Store, error) {
	cfg := OpenConfig{Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Logger == nil || cfg.Now == nil {
		return nil, errors.New("store: Open: nil logger or clock")
	}
	scheme := Scheme(url)
	registry.mu.RLock()
	o := registry.openers[scheme]
	registry.mu.RUnlock()
	if o == nil {
		return nil, fmt.Errorf("%w: %q (this binary links: %s)", ErrUnknownBackend, scheme, strings.Join(Schemes(), ", "))
	}
	return o(ctx, url, cfg)
}
