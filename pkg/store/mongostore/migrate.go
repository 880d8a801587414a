package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// codeNotImplemented is the server's NotImplemented error code.
const codeNotImplemented = 238

// migrateLockKey names the lock document Migrate holds.
const migrateLockKey = "mongostore/migrate"

// migration is one versioned schema change: indexes and collections. Its
// apply must be idempotent (creating an index that exists is a no-op), so
// that a migrator that crashed after applying but before recording is
// safely run again.
type migration struct {
	version int64
	name    string
	apply   func(ctx context.Context, s *Store) error
}

// migrations are applied in order; append only, never edit one that
// shipped.
var migrations = []migration{
	{1, "unique and lookup indexes", migrateIndexes},
	{2, "TTL indexes", migrateTTL},
	// 9 follows the SQL migration numbers; versions between are other
	// changes' (the runner applies what is missing, in order).
	{9, "audit at index (retention)", migrateAuditAt},
}

func migrateIndexes(ctx context.Context, s *Store) error {
	idx := []struct {
		c    *mongo.Collection
		keys bson.D
		opts *options.IndexOptionsBuilder
	}{
		{s.users, bson.D{{Key: "email", Value: 1}}, options.Index().SetName("email_unique").SetUnique(true)},
		{s.users, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, options.Index().SetName("created_at_id")},
		{s.sessions, bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}}, options.Index().SetName("user_created")},
		{s.tokens, bson.D{{Key: "hash", Value: 1}}, options.Index().SetName("hash_unique").SetUnique(true)},
		{s.tokens, bson.D{{Key: "user_id", Value: 1}}, options.Index().SetName("user")},
		{s.challenges, bson.D{{Key: "user_id", Value: 1}}, options.Index().SetName("user")},
		{s.audit, bson.D{{Key: "user_id", Value: 1}, {Key: "_id", Value: -1}}, options.Index().SetName("user_id")},
		{s.keys, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, options.Index().SetName("created_at_id")},
		{s.claims, bson.D{{Key: "user_id", Value: 1}}, options.Index().SetName("user")},
	}
	for _, i := range idx {
		if _, err := i.c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: i.keys, Options: i.opts}); err != nil {
			return fmt.Errorf("index %s.%v: %w", i.c.Name(), i.keys, err)
		}
	}
	return nil
}

// migrateTTL adds the TTL indexes on expire_at: storage only, never
// correctness (the monitor runs about once a minute, and later under
// load; every query checks expiry itself).
func migrateTTL(ctx context.Context, s *Store) error {
	secs := int32(min(s.cfg.ttlRetention/time.Second, 1<<31-1))
	for _, c := range []*mongo.Collection{s.sessions, s.tokens, s.challenges, s.keys, s.locks, s.claims} {
		opts := options.Index().SetName("expire_at_ttl").SetExpireAfterSeconds(secs)
		_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expire_at", Value: 1}}, Options: opts})
		if se, ok := errors.AsType[mongo.ServerError](err); ok && se.HasErrorCode(codeNotImplemented) {
			// FerretDB v1 has no TTL indexes. Nothing depends on them, so
			// the store works without; expired documents then stay until
			// their user is deleted or replaced.
			s.cfg.logger.Warn("mongostore: the server has no TTL indexes; expired documents are not deleted", "collection", c.Name())
			return nil
		}
		if err != nil {
			return fmt.Errorf("TTL index on %s: %w", c.Name(), err)
		}
	}
	return nil
}

type migrationDoc struct {
	Version   int64  `bson:"_id"`
	Name      string `bson:"name"`
	AppliedAt int64  `bson:"applied_at"`
}

// Migrate applies the migrations not yet recorded in schema_migrations, in
// order, under the lock document migrateLockKey (expiring, renewed while
// it runs), so that replicas starting together migrate once. Each applied
// version is recorded after its changes succeed.
func (s *Store) Migrate(ctx context.Context) error {
	return s.WithAdvisoryLock(ctx, migrateLockKey, func(ctx context.Context) error {
		for _, m := range migrations {
			err := s.migrations.FindOne(ctx, bson.D{{Key: "_id", Value: m.version}}).Err()
			switch {
			case err == nil:
				continue
			case !errors.Is(err, mongo.ErrNoDocuments):
				return mapErr("migrate: read schema_migrations", err)
			}
			if err := m.apply(ctx, s); err != nil {
				return mapErr(fmt.Sprintf("migrate %d (%s)", m.version, m.name), err)
			}
			doc := migrationDoc{Version: m.version, Name: m.name, AppliedAt: micros(s.now())}
			if _, err := s.migrations.InsertOne(ctx, doc); err != nil {
				return mapErr(fmt.Sprintf("migrate %d: record", m.version), err)
			}
			s.cfg.logger.Info("mongostore: migration applied", "version", m.version, "name", m.name)
		}
		return nil
	})
}
