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
	"slices"
	"strings"
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
	RevokeSigningKey(ctx context.Context, id string, at time.Time) error
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
	// PublishAhead is how long a rotated-in key is published in the JWKS
	// before it signs: the reload interval of every replica plus the JWKS
	// cache max-age of every verifier, so that no verifier meets a token
	// signed by a key it has not been able to fetch.
	PublishAhead time.Duration
	// UnknownKidReloadInterval bounds reloads triggered by tokens naming a
	// kid the ring does not know (default 5s).
	UnknownKidReloadInterval time.Duration
	Clock                    func() time.Time
	Logger                   *slog.Logger
	// OnChange, when set, is told of every key created and every key
	// revoked (for the audit trail); it must not block.
	OnChange func(ctx context.Context, c Change)
}

// Change is one change to the stored keys, as told to Config.OnChange.
type Change struct {
	// KID is the key created or revoked.
	KID string
	// Revoked is false for a key created, true for a key revoked.
	Revoked bool
	// At is when a created key starts signing, or when a key was revoked.
	At time.Time
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
	// candidates are the keys that may sign at some time, oldest first;
	// SigningKey picks among them by the clock at call time, so a key rotated
	// in ahead of time starts signing exactly at its activation.
	candidates []candidate
	byID       map[string]*token.Key
	macByID    map[string]*token.MACKey // refresh-token MAC keys, by their kid
	jwks       []byte
	stored     []store.SigningKey // every unexpired key, revoked ones too
	published  []store.SigningKey // stored less the revoked
}

type candidate struct {
	key                    *token.Key
	activatesAt, retiredAt time.Time
}

// signerAt returns the newest key allowed to sign at now.
func (r *ring) signerAt(now time.Time) *token.Key {
	for i := len(r.candidates) - 1; i >= 0; i-- {
		c := r.candidates[i]
		if !c.activatesAt.After(now) && (c.retiredAt.IsZero() || c.retiredAt.After(now)) {
			return c.key
		}
	}
	return nil
}

var (
	_ token.KeySet    = (*Manager)(nil)
	_ token.MACKeySet = (*Manager)(nil)
)

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
	m.ring.Store(&ring{byID: map[string]*token.Key{}, macByID: map[string]*token.MACKey{}, jwks: []byte(`{"keys":[]}`)})
	return m, nil
}

// Ensure loads the ring and, when no key may sign, creates one under the
// rotation lock (re-checking inside it, so concurrent starts make one key).
func (m *Manager) Ensure(ctx context.Context) error {
	if err := m.Reload(ctx); err != nil {
		return err
	}
	if m.hasSigner() {
		return nil
	}
	return m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		if m.hasSigner() {
			return nil
		}
		// The first key signs at once: no verifier can hold an older JWKS.
		_, err := m.create(ctx, 0)
		return err
	})
}

func (m *Manager) hasSigner() bool { return m.ring.Load().signerAt(m.cfg.Clock()) != nil }

// Rotate publishes a new key now and lets it sign after PublishAhead; the
// current key signs until then and stays published until every token it
// signed has expired.
func (m *Manager) Rotate(ctx context.Context) (*token.Key, error) {
	return m.rotate(ctx, m.cfg.PublishAhead)
}

// RotateNow makes a new key sign at once and revokes every key it
// replaces (the one signing now and any rotated in ahead), for a suspected
// key compromise: they leave the JWKS and verify nothing from now on (see
// Revoke). Verifiers holding a cached JWKS refetch it on the new kid.
func (m *Manager) RotateNow(ctx context.Context) (*token.Key, error) {
	var k *token.Key
	err := m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		replaced := m.mayStillSign(m.cfg.Clock())
		var err error
		if k, err = m.create(ctx, 0); err != nil {
			return err
		}
		return m.revoke(ctx, replaced...)
	})
	return k, err
}

// Revoke distrusts key kid at once, for a suspected compromise: it never
// signs again, leaves the JWKS, and no access token (nor refresh token of
// the older, signed kind) it signed verifies any more, here at once and on
// other replicas at their next reload. Revoking a key that signs now, or
// that was rotated in to sign later, first makes a new key that signs at
// once, returned, so that authd is never left without a signing key;
// otherwise the returned key is nil.
//
// Refresh tokens MACed under kid's refresh MAC key keep working, so that
// their sessions move onto the new key at their next refresh: that MAC key
// is derived from the master key, which the signing key's private part
// does not reveal. A suspected leak of the master key calls for a new
// master key instead, which ends every session.
//
// Revoking a revoked key changes nothing; an unknown kid matches
// store.ErrNotFound.
func (m *Manager) Revoke(ctx context.Context, kid string) (*token.Key, error) {
	var k *token.Key
	err := m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		if slices.Contains(m.mayStillSign(m.cfg.Clock()), kid) {
			var err error
			if k, err = m.create(ctx, 0); err != nil {
				return err
			}
		}
		return m.revoke(ctx, kid)
	})
	return k, err
}

// mayStillSign returns the unrevoked keys that sign at now or will later.
func (m *Manager) mayStillSign(now time.Time) []string {
	var ids []string
	for _, sk := range m.ring.Load().stored {
		if sk.RevokedAt.IsZero() && (sk.RetiredAt.IsZero() || sk.RetiredAt.After(now)) {
			ids = append(ids, sk.ID)
		}
	}
	return ids
}

// revoke marks the keys revoked and reloads; the caller holds the lock.
func (m *Manager) revoke(ctx context.Context, kids ...string) error {
	now := m.cfg.Clock()
	for _, kid := range kids {
		if err := m.store.RevokeSigningKey(ctx, kid, now); err != nil {
			return fmt.Errorf("keys: revoke %s: %w", kid, err)
		}
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "signing key revoked", slog.String("kid", kid))
		if m.cfg.OnChange != nil {
			m.cfg.OnChange(ctx, Change{KID: kid, Revoked: true, At: now})
		}
	}
	return m.Reload(ctx)
}

func (m *Manager) rotate(ctx context.Context, ahead time.Duration) (*token.Key, error) {
	var k *token.Key
	err := m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		var err error
		k, err = m.create(ctx, ahead)
		return err
	})
	return k, err
}

// RotateIfDue rotates (publishing ahead) when the newest key is older than
// interval and no rotated-in key is already waiting to sign. Every replica
// may call it on a schedule: the check is repeated under the rotation lock,
// so replicas racing each other create one key, not one each.
func (m *Manager) RotateIfDue(ctx context.Context, interval time.Duration) (*token.Key, error) {
	if interval <= 0 {
		return nil, nil
	}
	var k *token.Key
	err := m.store.WithAdvisoryLock(ctx, rotationLock, func(ctx context.Context) error {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		if !m.rotationDue(interval) {
			return nil
		}
		var err error
		k, err = m.create(ctx, m.cfg.PublishAhead)
		return err
	})
	return k, err
}

// rotationDue reports whether the newest stored key is older than interval
// and already signing.
func (m *Manager) rotationDue(interval time.Duration) bool {
	stored := m.ring.Load().stored
	if len(stored) == 0 {
		return true
	}
	newest := stored[len(stored)-1]
	now := m.cfg.Clock()
	return !newest.ActivatesAt.After(now) && !now.Before(newest.CreatedAt.Add(interval))
}

// create makes and stores a key that signs after `ahead`, and retires the
// others from that moment; the caller holds the lock.
func (m *Manager) create(ctx context.Context, ahead time.Duration) (*token.Key, error) {
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
	activates := now.Add(ahead)
	if err := m.store.CreateSigningKey(ctx, store.SigningKey{
		ID: k.ID, Algorithm: k.Algorithm, PublicKey: pub, SealedPrivateKey: sealed,
		CreatedAt: now, ActivatesAt: activates,
	}); err != nil {
		return nil, fmt.Errorf("keys: store: %w", err)
	}
	// The previous keys sign until the new one activates and stay
	// published until the last token they could have signed expires.
	if err := m.store.RetireSigningKeys(ctx, k.ID, activates, activates.Add(m.cfg.MaxTokenLifetime)); err != nil {
		return nil, fmt.Errorf("keys: retire previous keys: %w", err)
	}
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "signing key created", slog.String("kid", k.ID),
		slog.String("alg", k.Algorithm), slog.Time("activates_at", activates))
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(ctx, Change{KID: k.ID, At: activates})
	}
	return k, m.Reload(ctx)
}

// Reload replaces the ring with the keys now in the store.
func (m *Manager) Reload(ctx context.Context) error {
	now := m.cfg.Clock()
	stored, err := m.store.SigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	r := &ring{byID: make(map[string]*token.Key, len(stored)), macByID: make(map[string]*token.MACKey, len(stored)), stored: stored}
	var public []*token.Key
	for _, sk := range stored {
		// A revoked key keeps only its refresh MAC key (see Revoke): its
		// private part is not even opened.
		mk, err := token.DeriveMACKey(m.cfg.MasterKey, refreshMACInfo, RefreshKeyID(sk.ID))
		if err != nil {
			return fmt.Errorf("keys: derive the refresh MAC key of %s: %w", sk.ID, err)
		}
		r.macByID[mk.ID] = mk
		if !sk.RevokedAt.IsZero() {
			continue
		}
		k, err := token.OpenPrivateKey(m.cfg.MasterKey, sk.ID, sk.Algorithm, sk.SealedPrivateKey)
		if err != nil {
			return fmt.Errorf("keys: open key %s (is AUTHD_MASTER_KEY the one it was sealed with?): %w", sk.ID, err)
		}
		// Verifiers refuse tokens issued after the retirement, here and,
		// through the JWKS, everywhere.
		k.RetiredAt = sk.RetiredAt
		r.byID[k.ID] = k
		public = append(public, k)
		r.published = append(r.published, sk)
		if sk.RetiredAt.IsZero() || sk.RetiredAt.After(now) {
			r.candidates = append(r.candidates, candidate{key: k, activatesAt: sk.ActivatesAt, retiredAt: sk.RetiredAt})
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

// Run reloads the ring every reloadInterval until ctx ends, so keys
// rotated by another replica or the CLI are picked up, and rotates when the
// newest key is older than rotationInterval (0 disables rotation).
func (m *Manager) Run(ctx context.Context, reloadInterval, rotationInterval time.Duration) {
	t := time.NewTicker(reloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := m.Reload(ctx)
			if err == nil && rotationInterval > 0 && m.rotationDue(rotationInterval) {
				_, err = m.RotateIfDue(ctx, rotationInterval)
			}
			if err != nil && ctx.Err() == nil {
				m.cfg.Logger.LogAttrs(ctx, slog.LevelError, "signing key reload or rotation failed", slog.Any("error", err))
			}
		}
	}
}

// SigningKey returns the key that signs new tokens now.
func (m *Manager) SigningKey() (*token.Key, error) {
	if k := m.ring.Load().signerAt(m.cfg.Clock()); k != nil {
		return k, nil
	}
	return nil, ErrNoSigningKey
}

// refreshMACInfo is the HKDF purpose of refresh-token MAC keys; a new
// purpose needs a new string, never this one.
const refreshMACInfo = "authd refresh-token HS256 v1"

// refreshKeyPrefix starts the kid of a refresh MAC key; the rest is the id
// of the signing key it belongs to. "." is outside the base64url alphabet
// of signing kids, so the two kinds of id never collide.
const refreshKeyPrefix = "r."

// RefreshKeyID is the kid of the refresh MAC key that belongs to the signing
// key signingKID.
func RefreshKeyID(signingKID string) string { return refreshKeyPrefix + signingKID }

// RefreshKey returns the MAC key for new refresh tokens: the one that
// belongs to the key that signs now. Each signing key has its own, derived
// from the master key and the signing key's id, so it rotates and retires
// with the signing key, outlives every refresh token it MACed, and every
// replica derives the same one without storing it.
func (m *Manager) RefreshKey() (*token.MACKey, error) {
	r := m.ring.Load()
	k := r.signerAt(m.cfg.Clock())
	if k == nil {
		return nil, ErrNoSigningKey
	}
	return r.macByID[RefreshKeyID(k.ID)], nil
}

// MACKey implements token.MACKeySet for refresh tokens. Like
// VerificationKey, a kid the ring does not know triggers at most one reload
// per UnknownKidReloadInterval.
func (m *Manager) MACKey(ctx context.Context, kid string) (*token.MACKey, error) {
	if k, ok := m.ring.Load().macByID[kid]; ok {
		return k, nil
	}
	signingKID, ok := strings.CutPrefix(kid, refreshKeyPrefix)
	if !ok || signingKID == "" {
		return nil, token.ErrUnknownKey
	}
	if _, err := m.VerificationKey(ctx, signingKID); err != nil {
		return nil, err
	}
	if k, ok := m.ring.Load().macByID[kid]; ok {
		return k, nil
	}
	return nil, token.ErrUnknownKey
}

// JWKS returns the JSON of the published key set.
func (m *Manager) JWKS() []byte { return m.ring.Load().jwks }

// Keys returns the stored metadata of every published key, oldest first
// (for listing and for the key-age metric).
func (m *Manager) Keys() []store.SigningKey { return m.ring.Load().published }

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
