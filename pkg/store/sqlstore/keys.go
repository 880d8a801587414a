package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

type keyQueries struct {
	insert, list, retire, revoke string
}

func newKeyQueries(d dialect) keyQueries {
	return keyQueries{
		insert: d.rebind(`INSERT INTO signing_keys (id, algorithm, public_key, sealed_private_key,
			created_at, activates_at, retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		list: d.rebind(`SELECT id, algorithm, public_key, sealed_private_key, created_at, activates_at,
			retired_at, expires_at, revoked_at FROM signing_keys WHERE expires_at IS NULL OR expires_at > ?
			ORDER BY created_at, id`),
		retire: d.rebind(`UPDATE signing_keys SET retired_at = ?, expires_at = ?
			WHERE retired_at IS NULL AND id <> ?`),
		// COALESCE keeps the first revocation time: revoking twice is
		// not an error and does not move it.
		revoke: d.rebind(`UPDATE signing_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
	}
}

type keyRow struct {
	ID               string `db:"id"`
	Algorithm        string `db:"algorithm"`
	PublicKey        []byte `db:"public_key"`
	SealedPrivateKey []byte `db:"sealed_private_key"`
	CreatedAt        dbTime `db:"created_at"`
	ActivatesAt      dbTime `db:"activates_at"`
	RetiredAt        dbTime `db:"retired_at"`
	ExpiresAt        dbTime `db:"expires_at"`
	RevokedAt        dbTime `db:"revoked_at"`
}

// CreateSigningKey stores k. A zero CreatedAt is set from the store's clock
// and a zero ActivatesAt to CreatedAt. An existing ID is
// store.ErrAlreadyExists.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PublicKey) == 0 || len(k.SealedPrivateKey) == 0 {
		return fmt.Errorf("sqlstore: create signing key: ID, Algorithm, PublicKey and SealedPrivateKey are required: %w", errInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	if k.ActivatesAt.IsZero() {
		k.ActivatesAt = k.CreatedAt
	}
	if _, err := exec(ctx, s.wq, s.kq.insert, k.ID, k.Algorithm, k.PublicKey, k.SealedPrivateKey,
		dbTime(k.CreatedAt), dbTime(k.ActivatesAt), dbTime(k.RetiredAt), dbTime(k.ExpiresAt)); err != nil {
		return mapWriteErr("create signing key", err)
	}
	return nil
}

// SigningKeys returns every key whose ExpiresAt is zero or after now,
// oldest first.
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error) {
	var rows []keyRow
	if err := selectAll(ctx, s.rq, &rows, s.kq.list, dbTime(now)); err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	out := make([]store.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = store.SigningKey{
			ID:               r.ID,
			Algorithm:        r.Algorithm,
			PublicKey:        r.PublicKey,
			SealedPrivateKey: r.SealedPrivateKey,
			CreatedAt:        r.CreatedAt.Time(),
			ActivatesAt:      r.ActivatesAt.Time(),
			RetiredAt:        r.RetiredAt.Time(),
			ExpiresAt:        r.ExpiresAt.Time(),
			RevokedAt:        r.RevokedAt.Time(),
		}
	}
	return out, nil
}

// RetireSigningKeys marks every unretired key but keepID as retired at
// `at`, expiring at expiresAt. Keys already retired keep their times.
func (s *Store) RetireSigningKeys(ctx context.Context, keepID string, at, expiresAt time.Time) error {
	if at.IsZero() || expiresAt.IsZero() {
		return fmt.Errorf("sqlstore: retire signing keys: zero time: %w", errInvalid)
	}
	if _, err := exec(ctx, s.wq, s.kq.retire, dbTime(at), dbTime(expiresAt), keepID); err != nil {
		return fmt.Errorf("sqlstore: retire signing keys: %w", err)
	}
	return nil
}

// RevokeSigningKey marks key id revoked at `at`; a key already revoked
// keeps its first time. An unknown id is store.ErrNotFound.
func (s *Store) RevokeSigningKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: revoke signing key: zero time: %w", errInvalid)
	}
	res, err := exec(ctx, s.wq, s.kq.revoke, dbTime(at), id)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke signing key: %w", err)
	}
	return requireRow(res, "signing key", id)
}
