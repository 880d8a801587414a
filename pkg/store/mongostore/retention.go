package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// PurgeAuditEvents deletes up to limit of the oldest events before before:
// it reads the ids of the batch through the at index (migration 9), then
// deletes those ids that are still before the cutoff. MongoDB has no
// triggers; what keeps the recent trail is the store's own check and the
// privileges of authd's database user (README, "MongoDB").
func (s *Store) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := store.CheckAuditPurge(s.now(), before, limit); err != nil {
		return 0, fmt.Errorf("mongostore: purge audit events: %w: %w", err, errInvalid)
	}
	old := bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: micros(before)}}}}
	var docs []struct {
		ID int64 `bson:"_id"`
	}
	opts := options.Find().SetSort(bson.D{{Key: "at", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "_id", Value: 1}})
	if err := findAll(ctx, s.audit, old, opts, &docs); err != nil {
		return 0, mapErr("purge audit events", err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make(bson.A, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	res, err := s.audit.DeleteMany(ctx, append(old, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}))
	if err != nil {
		return 0, mapErr("purge audit events", err)
	}
	return res.DeletedCount, nil
}

// migrateAuditAt adds the index PurgeAuditEvents walks.
func migrateAuditAt(ctx context.Context, s *Store) error {
	_, err := s.audit.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")})
	if err != nil {
		return fmt.Errorf("index %s.at: %w", s.audit.Name(), err)
	}
	return nil
}
