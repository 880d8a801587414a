package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// claimDoc records that a single-use value was used: a refresh jti
// rotated, a one-time token, MFA challenge or recovery code consumed, a
// TOTP step accepted. Its _id is the value's key, so the server's unique
// _id lets exactly one insert of it succeed, whatever the server does with
// concurrent updates. See the package doc ("Claims").
type claimDoc struct {
	Key    string `bson:"_id"`
	UserID string `bson:"user_id"`
	At     int64  `bson:"at"`
	// ExpireAt is when the claim can go (the value it guards is dead by
	// then), for the TTL index only; nil keeps it.
	ExpireAt *time.Time `bson:"expire_at,omitempty"`
}

// claim inserts the claim of key; won is false when it existed already.
func (s *Store) claim(ctx context.Context, key, userID string, expireAt time.Time) (won bool, err error) {
	d := claimDoc{Key: key, UserID: userID, At: micros(s.now())}
	if !expireAt.IsZero() {
		d.ExpireAt = &expireAt
	}
	_, err = s.claims.InsertOne(ctx, d)
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	default:
		return false, mapErr("claim", err)
	}
}
