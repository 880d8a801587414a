package mongostore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// lockDoc is a held lock: one document per key in the locks collection.
// ExpiresAt (Unix µs, the holder's clock) is when another process may take
// it over; the holder renews it every third of the lock TTL. expire_at only
// lets the TTL monitor delete locks nobody will ever take again.
type lockDoc struct {
	Key       string    `bson:"_id"`
	Owner     string    `bson:"owner"`
	ExpiresAt int64     `bson:"expires_at"`
	ExpireAt  time.Time `bson:"expire_at"`
}

// WithAdvisoryLock runs fn while holding the lock document of key, so that
// replicas do not run migrations or key rotation at the same time.
//
// Taking the lock is one insert (a duplicate _id means it is held) or one
// conditional update of an expired lock; waiting polls until ctx is done.
// While fn runs the lock is renewed; if a renewal finds the lock gone or
// taken over (this process stalled past the TTL), fn's context is
// cancelled and WithAdvisoryLock returns fn's error or, failing that, an
// error saying the lock was lost. Expiry is read on the replicas' clocks:
// clocks further apart than the lock TTL defeat it.
func (s *Store) WithAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	owner := rand.Text()
	if err := s.acquire(ctx, key, owner); err != nil {
		return err
	}
	fnCtx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(fnCtx, cancel, key, owner)
	}()
	err := fn(fnCtx)
	lost := context.Cause(fnCtx)
	cancel(nil)
	<-renewed
	// Released with a context of its own: a cancelled caller must not
	// leave the lock held until it expires.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if _, rerr := s.locks.DeleteOne(rctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: owner}}); rerr != nil {
		s.cfg.logger.Warn("mongostore: release lock", "key", key, "err", rerr)
	}
	if err == nil && errors.Is(lost, errLockLost) {
		return fmt.Errorf("mongostore: lock %q: %w", key, lost)
	}
	return err
}

var errLockLost = errors.New("lock lost while held")

// acquire takes the lock of key for owner, waiting until ctx is done.
func (s *Store) acquire(ctx context.Context, key, owner string) error {
	t := time.NewTicker(s.cfg.lockPoll)
	defer t.Stop()
	for {
		now := s.now()
		exp := now.Add(s.cfg.lockTTL)
		doc := lockDoc{Key: key, Owner: owner, ExpiresAt: micros(exp), ExpireAt: exp}
		_, err := s.locks.InsertOne(ctx, doc)
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return mapErr("lock "+key, err)
		}
		// Held: take it over only if it expired, in one conditional update.
		res, err := s.locks.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "expires_at", Value: bson.D{{Key: "$lt", Value: micros(now)}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "expires_at", Value: micros(exp)}, {Key: "expire_at", Value: exp}}}})
		if err != nil {
			return mapErr("lock "+key, err)
		}
		if res.ModifiedCount == 1 {
			s.cfg.logger.Warn("mongostore: took over an expired lock", "key", key)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mongostore: lock %q: %w", key, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// renew extends the lock every third of its TTL until ctx ends, cancelling
// it with errLockLost when the lock is no longer owner's.
func (s *Store) renew(ctx context.Context, cancel context.CancelCauseFunc, key, owner string) {
	t := time.NewTicker(s.cfg.lockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		exp := s.now().Add(s.cfg.lockTTL)
		res, err := s.locks.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: owner}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: micros(exp)}, {Key: "expire_at", Value: exp}}}})
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			// A failed renewal is retried at the next tick; the TTL leaves
			// two more.
			s.cfg.logger.Warn("mongostore: renew lock", "key", key, "err", err)
		case res.MatchedCount == 0:
			cancel(errLockLost)
			return
		}
	}
}
