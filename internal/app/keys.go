package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/mfa"
	"github.com/authd/authd/pkg/token"
)

// PublishAhead is how long a rotated-in key is published before it signs:
// every replica reloads keys within KeyReloadInterval, then every verifier
// refetches the JWKS within JWKSMaxAge; a minute of margin for clock skew.
func PublishAhead(cfg config.Config) time.Duration {
	return cfg.KeyPublishAhead()
}

// OpenKeys returns the key manager for cfg, resolving the master key.
func OpenKeys(cfg config.Config, s keys.Store, log *slog.Logger, clock func() time.Time, onChange func(ctx context.Context, c keys.Change)) (*keys.Manager, error) {
	master, err := MasterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return keys.New(s, keys.Config{
		Algorithm:        cfg.SigningAlg,
		MasterKey:        master,
		MaxTokenLifetime: cfg.MaxTokenLifetime(),
		PublishAhead:     PublishAhead(cfg),
		OnChange:         onChange,
		Clock:            clock,
		Logger:           log,
	})
}

// signing is the key part of the server: the key ring and the sealer of
// TOTP secrets, both keyed from the master key. It holds nothing to close.
type signing struct {
	keys   *keys.Manager
	sealer *mfa.Sealer
}

// openSigning opens the key ring, makes sure a signing key exists, and
// builds the sealer.
func openSigning(ctx context.Context, cfg config.Config, s keys.Store, log *slog.Logger, clock func() time.Time,
	onChange func(ctx context.Context, c keys.Change)) (signing, error) {
	km, err := OpenKeys(cfg, s, log, clock, onChange)
	if err != nil {
		return signing{}, err
	}
	if err := km.Ensure(ctx); err != nil {
		return signing{}, err
	}
	// OpenKeys has resolved, or generated, the master key already.
	master, err := MasterKey(cfg, log)
	if err != nil {
		return signing{}, err
	}
	sealer, err := mfa.NewSealer(master)
	if err != nil {
		return signing{}, err
	}
	return signing{keys: km, sealer: sealer}, nil
}

// errNoSigningKeys is what a service built without the key ring answers
// when asked to mint or verify a token.
var errNoSigningKeys = errors.New("app: this command opened no signing keys")

// noSigningKeys is the key ring of a service that mints no tokens: the
// admin commands' (OpenAdmin). Every lookup fails, so that a command that
// came to sign would fail loudly instead of reading keys it never opened.
type noSigningKeys struct{}

func (noSigningKeys) SigningKey() (*token.Key, error)    { return nil, errNoSigningKeys }
func (noSigningKeys) RefreshKey() (*token.MACKey, error) { return nil, errNoSigningKeys }
func (noSigningKeys) VerificationKey(context.Context, string) (*token.Key, error) {
	return nil, errNoSigningKeys
}
func (noSigningKeys) MACKey(context.Context, string) (*token.MACKey, error) {
	return nil, errNoSigningKeys
}
