package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// keyDoc is a signing key. expire_at is set once the key has an expiry.
type keyDoc struct {
	ID               string     `bson:"_id"`
	Algorithm        string     `bson:"algorithm"`
	PublicKey        []byte     `bson:"public_key"`
	SealedPrivateKey []byte     `bson:"sealed_private_key"`
	CreatedAt        int64      `bson:"created_at"`
	ActivatesAt      int64      `bson:"activates_at"`
	RetiredAt        int64      `bson:"retired_at"`
	ExpiresAt        int64      `bson:"expires_at"`
	RevokedAt        int64      `bson:"revoked_at"`
	ExpireAt         *time.Time `bson:"expire_at,omitempty"`
}

// CreateSigningKey stores k; an existing ID is store.ErrAlreadyExists.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PublicKey) == 0 || len(k.SealedPrivateKey) == 0 {
		return fmt.Errorf("mongostore: create signing key: ID, Algorithm, PublicKey and SealedPrivateKey are required: %w", errInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	if k.ActivatesAt.IsZero() {
		k.ActivatesAt = k.CreatedAt
	}
	d := keyDoc{ID: k.ID, Algorithm: k.Algorithm, PublicKey: k.PublicKey, SealedPrivateKey: k.SealedPrivateKey,
		CreatedAt: micros(k.CreatedAt), ActivatesAt: micros(k.ActivatesAt), RetiredAt: micros(k.RetiredAt),
		ExpiresAt: micros(k.ExpiresAt), RevokedAt: micros(k.RevokedAt)}
	if !k.ExpiresAt.IsZero() {
		d.ExpireAt = &k.ExpiresAt
	}
	if _, err := s.keys.InsertOne(ctx, d); err != nil {
		return mapErr("create signing key", err)
	}
	return nil
}

// SigningKeys returns the keys unexpired at now, oldest first.
func (s *Store) SigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error) {
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "expires_at", Value: int64(0)}},
		bson.D{{Key: "expires_at", Value: gtNow(now)}},
	}}}
	var docs []keyDoc
	if err := findAll(ctx, s.keys, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, mapErr("signing keys", err)
	}
	out := make([]store.SigningKey, len(docs))
	for i, d := range docs {
		out[i] = store.SigningKey{ID: d.ID, Algorithm: d.Algorithm, PublicKey: d.PublicKey, SealedPrivateKey: d.SealedPrivateKey,
			CreatedAt: fromMicros(d.CreatedAt), ActivatesAt: fromMicros(d.ActivatesAt), RetiredAt: fromMicros(d.RetiredAt),
			ExpiresAt: fromMicros(d.ExpiresAt), RevokedAt: fromMicros(d.RevokedAt)}
	}
	return out, nil
}

// RetireSigningKeys retires every unretired key but keepID.
func (s *Store) RetireSigningKeys(ctx context.Context, keepID string, at, expiresAt time.Time) error {
	if at.IsZero() || expiresAt.IsZero() {
		return fmt.Errorf("mongostore: retire signing keys: zero time: %w", errInvalid)
	}
	_, err := s.keys.UpdateMany(ctx,
		bson.D{{Key: "retired_at", Value: int64(0)}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: keepID}}}},
		set(bson.E{Key: "retired_at", Value: micros(at)}, bson.E{Key: "expires_at", Value: micros(expiresAt)},
			bson.E{Key: "expire_at", Value: expiresAt}))
	return mapErr("retire signing keys", err)
}

// RevokeSigningKey revokes key id, keeping a first revocation time.
func (s *Store) RevokeSigningKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("mongostore: revoke signing key: zero time: %w", errInvalid)
	}
	if _, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "revoked_at", Value: int64(0)}},
		set(bson.E{Key: "revoked_at", Value: micros(at)})); err != nil {
		return mapErr("revoke signing key", err)
	}
	n, err := s.keys.CountDocuments(ctx, byID(id))
	if err != nil {
		return mapErr("revoke signing key", err)
	}
	if n == 0 {
		return notFound("signing key", id)
	}
	return nil
}
