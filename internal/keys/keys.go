// Package keys manages authd's signing keys: it creates them, seals their
// private parts under the master key, stores them, and keeps an in-memory
// key ring that every replica reloads from the store, so that all replicas
// sign with the same key and publish the same JWKS.
package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/token"
)

// ErrNoSigningKey means no key is active for signing; run Ensure first.
var ErrNoSigningKey = errors.New("keys: no active signing key")

// rotationLock names the advisory lock held while keys are created, so that
// replicas starting together create one key, not one each.
const rotationLock = "authd:signing-keys"

// Store is the part of pkg/store the key ring needs.
type Store interface {
	CreateSigningKey(ctx context.Context, k store.SigningKey) error
	SigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error)
	RetireSigningKeys(ctx context.Context, keepID string, at, expiresAt time.Time) error
	WithAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) error
}

// Config configures a Manager.
type Config struct {
	// Algorithm of new keys.
	Algorithm string
	// MasterKey (32 bytes) seals private keys at rest.
	MasterKey []byte
	// MaxTokenLifetime is the longest lifetime of any token a key signs
	// (the refresh TTL plus leeway): a retired key stays published this
	// long so that every token it signed can still be verified.
	MaxTokenLifetime time.Duration
	// UnknownKidReloadInterval bounds reloads triggered by tokens naming a
	// kid the ring does not know (default 5s).
	UnknownKidReloadInterval time.Duration
	Clock                    func() time.Time
	Logger                   *slog.Logger
}

// Manager holds the key ring. It implements token.KeySet.
type Manager struct {
	store Store
	cfg   Config
	ring  atomic.Pointer[ring]

	reloadMu   sync.Mutex
	lastReload time.Time
}

// ring is an immutable snapshot of the keys, swapped atomically on reload.
type ring struct {
	signer *token.Key
	byID   map[string]*token.Key
	jwks   []byte
	ids    []string
}

var _ token.KeySet = (*Manager)(nil)

// New returns a Manager; call Ensure or Reload before use.
func New(s Store, cfg Config) (*Manager, error) {
	if len(cfg.MasterKey) != 32 {
		return nil, errors.New("keys: master key must be 32 bytes")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UnknownKidReloadInterval <= 0 {
		cfg.UnknownKidReloadInterval = 5 * time.Second
	}
	m := &Manager{store: s, cfg: cfg}
	m.ring.Store(&ring{byID: map[string]*token.Key{}, jwks: []byte(`{"keys":[]}`)})
	return m, nil
}

// Ensure loads the ring and, when no key may sign, creates one under the
// rotation lock (re-checking inside it, so concurrent starts make one key).
func (m *Manager) Ensure(ctx context.Context) error {
	if err := m.Reload(ctx); err != nil {
		return err
	}
	if m.ring.Load().signer != nil {
		return nil
	}
	return m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		if m.ring.Load().signer != nil {
			return nil
		}
		_, err := m.create(ctx)
		return err
	})
}

// Rotate creates a new key that signs from now on and retires the others;
// they stay published until every token they signed has expired.
func (m *Manager) Rotate(ctx context.Context) (*token.Key, error) {
	var k *token.Key
	err := m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		var err error
		k, err = m.create(ctx)
		return err
	})
	return k, err
}

// create makes, stores and activates a key; the caller holds the lock.
func (m *Manager) create(ctx context.Context) (*token.Key, error) {
	k, err := token.GenerateKey(m.cfg.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	pub, err := k.MarshalPublicKey()
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	sealed, err := token.SealPrivateKey(m.cfg.MasterKey, k)
	if err != nil {
		return nil, fmt.Errorf("keys: seal: %w", err)
	}
	now := m.cfg.Clock()
	if err := m.store.CreateSigningKey(ctx, store.SigningKey{
		ID: k.ID, Algorithm: k.Algorithm, PublicKey: pub, SealedPrivateKey: sealed,
		CreatedAt: now, ActivatesAt: now,
	}); err != nil {
		return nil, fmt.Errorf("keys: store: %w", err)
	}
	if err := m.store.RetireSigningKeys(ctx, k.ID, now, now.Add(m.cfg.MaxTokenLifetime)); err != nil {
		return nil, fmt.Errorf("keys: retire previous keys: %w", err)
	}
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "signing key created", slog.String("kid", k.ID), slog.String("alg", k.Algorithm))
	return k, m.Reload(ctx)
}

// Reload replaces the ring with the keys now in the store.
func (m *Manager) Reload(ctx context.Context) error {
	now := m.cfg.Clock()
	stored, err := m.store.SigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	r := &ring{byID: make(map[string]*token.Key, len(stored))}
	var public []*token.Key
	for _, sk := range stored {
		k, err := token.OpenPrivateKey(m.cfg.MasterKey, sk.ID, sk.Algorithm, sk.SealedPrivateKey)
		if err != nil {
			return fmt.Errorf("keys: open key %s (is AUTHD_MASTER_KEY the one it was sealed with?): %w", sk.ID, err)
		}
		r.byID[k.ID] = k
		r.ids = append(r.ids, k.ID)
		public = append(public, k)
		if !sk.ActivatesAt.After(now) && (sk.RetiredAt.IsZero() || sk.RetiredAt.After(now)) {
			r.signer = k // stored oldest first: the newest eligible key wins
		}
	}
	set, err := token.NewJWKS(public)
	if err != nil {
		return fmt.Errorf("keys: build JWKS: %w", err)
	}
	if r.jwks, err = json.Marshal(set); err != nil {
		return fmt.Errorf("keys: encode JWKS: %w", err)
	}
	m.ring.Store(r)
	m.reloadMu.Lock()
	m.lastReload = now
	m.reloadMu.Unlock()
	return nil
}

// Run reloads the ring every interval until ctx ends, so keys rotated by
// another replica or the CLI are picked up.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.Reload(ctx); err != nil && ctx.Err() == nil {
				m.cfg.Logger.LogAttrs(ctx, slog.LevelError, "signing key reload failed", slog.Any("error", err))
			}
		}
	}
}

// Signer returns the key that signs new tokens.
func (m *Manager) Signer() (*token.Key, error) {
	if k := m.ring.Load().signer; k != nil {
		return k, nil
	}
	return nil, ErrNoSigningKey
}

// JWKS returns the JSON of the published key set.
func (m *Manager) JWKS() []byte { return m.ring.Load().jwks }

// KeyIDs returns the ids of every published key, oldest first.
func (m *Manager) KeyIDs() []string { return m.ring.Load().ids }

// VerificationKey implements token.KeySet. An unknown kid triggers at most
// one reload per UnknownKidReloadInterval, so a key rotated on another
// replica is found quickly but a flood of made-up kids costs no I/O.
func (m *Manager) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	if k, ok := m.ring.Load().byID[kid]; ok && kid != "" {
		return k, nil
	}
	if kid == "" {
		return nil, token.ErrUnknownKey
	}
	m.reloadMu.Lock()
	due := m.cfg.Clock().Sub(m.lastReload) >= m.cfg.UnknownKidReloadInterval
	if due {
		m.lastReload = m.cfg.Clock()
	}
	m.reloadMu.Unlock()
	if due {
		if err := m.Reload(ctx); err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "signing key reload on unknown kid failed", slog.Any("error", err))
		}
		if k, ok := m.ring.Load().byID[kid]; ok {
			return k, nil
		}
	}
	return nil, token.ErrUnknownKey
}
