package mongostore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// tokenDoc is a one-time token. Its _id is its user and purpose
// (tokenKey), not its hash: storing a token replaces the previous one of
// that user and purpose in one single-document upsert, so "at most one
// live token per user and purpose" needs no transaction. The hash has a
// unique index of its own and is the lookup key.
type tokenDoc struct {
	Key       string    `bson:"_id"`
	Hash      []byte    `bson:"hash"`
	Purpose   string    `bson:"purpose"`
	UserID    string    `bson:"user_id"`
	Email     string    `bson:"email"`
	CreatedAt int64     `bson:"created_at"`
	ExpiresAt int64     `bson:"expires_at"`
	UsedAt    int64     `bson:"used_at"`
	ExpireAt  time.Time `bson:"expire_at"`
}

func (d tokenDoc) token() store.OneTimeToken {
	return store.OneTimeToken{Hash: d.Hash, Purpose: d.Purpose, UserID: d.UserID, Email: d.Email,
		CreatedAt: fromMicros(d.CreatedAt), ExpiresAt: fromMicros(d.ExpiresAt), UsedAt: fromMicros(d.UsedAt)}
}

// tokenKey is the _id of a user's token of purpose: length-prefixed, so
// no two (user, purpose) pairs share one.
func tokenKey(userID, purpose string) string {
	return fmt.Sprintf("%d:%s:%s", len(userID), userID, purpose)
}

// CreateOneTimeToken replaces the user's token of t.Purpose with t (one
// upsert). An unknown user is store.ErrNotFound; a taken hash
// store.ErrAlreadyExists.
func (s *Store) CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error {
	if len(t.Hash) == 0 || t.Purpose == "" || t.UserID == "" || t.Email == "" || t.ExpiresAt.IsZero() {
		return fmt.Errorf("mongostore: create one-time token: Hash, Purpose, UserID, Email and ExpiresAt are required: %w", errInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if _, err := s.userVersion(ctx, t.UserID); err != nil {
		return err
	}
	key := tokenKey(t.UserID, t.Purpose)
	doc := tokenDoc{Key: key, Hash: t.Hash, Purpose: t.Purpose, UserID: t.UserID, Email: t.Email,
		CreatedAt: micros(t.CreatedAt), ExpiresAt: micros(t.ExpiresAt), ExpireAt: t.ExpiresAt}
	if _, err := s.tokens.ReplaceOne(ctx, byID(key), doc, options.Replace().SetUpsert(true)); err != nil {
		return mapErr("create one-time token", err)
	}
	// A DeleteUser that ran between the check and the upsert: take it back.
	if _, err := s.userVersion(ctx, t.UserID); errors.Is(err, store.ErrNotFound) {
		_, _ = s.tokens.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: key}, {Key: "hash", Value: t.Hash}})
		return err
	}
	return nil
}

// ConsumeOneTimeToken finds the token live (unused, unexpired, of that
// purpose), claims its hash (one insert: of concurrent callers exactly one
// wins, the others answer store.ErrNotFound), then marks it used with an
// update conditional on used_at still 0.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (store.OneTimeToken, error) {
	if len(hash) == 0 || purpose == "" || now.IsZero() {
		return store.OneTimeToken{}, fmt.Errorf("mongostore: consume one-time token: hash, purpose and now are required: %w", errInvalid)
	}
	live := bson.D{{Key: "hash", Value: hash}, {Key: "purpose", Value: purpose}, {Key: "used_at", Value: int64(0)},
		{Key: "expires_at", Value: gtNow(now)}}
	gone := fmt.Errorf("mongostore: one-time token (%s): %w", purpose, store.ErrNotFound)
	var d tokenDoc
	err := s.tokens.FindOne(ctx, live).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.OneTimeToken{}, gone
	}
	if err != nil {
		return store.OneTimeToken{}, mapErr("consume one-time token", err)
	}
	won, err := s.claim(ctx, "token:"+hex.EncodeToString(hash), d.UserID, d.ExpireAt)
	if err != nil {
		return store.OneTimeToken{}, err
	}
	if !won {
		return store.OneTimeToken{}, gone
	}
	res, err := s.tokens.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: d.Key}}, live...), set(bson.E{Key: "used_at", Value: micros(now)}))
	if err != nil {
		return store.OneTimeToken{}, mapErr("consume one-time token", err)
	}
	if res.MatchedCount == 0 {
		return store.OneTimeToken{}, gone // replaced or deleted since the read
	}
	d.UsedAt = micros(now)
	return d.token(), nil
}
