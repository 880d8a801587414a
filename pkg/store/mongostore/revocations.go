package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

var _ store.RevocationLog = (*Store)(nil)

const (
	collRevocations = "revocations"
	// revocationCounter is the counters document whose seq allocates
	// revocation ids; its seq is the revocation generation.
	revocationCounter = "revocations"
)

type revocationDoc struct {
	ID        int64  `bson:"_id"`
	Kind      string `bson:"kind"`
	Subject   string `bson:"subject"`
	Value     string `bson:"value"`
	Cutoff    int64  `bson:"cutoff"`
	Until     int64  `bson:"until"`
	CreatedAt int64  `bson:"created_at"`
}

func (s *Store) revocations() *mongo.Collection { return s.db.Collection(collRevocations) }

// migrateRevocations adds the index the purge and the live listing use.
func migrateRevocations(ctx context.Context, s *Store) error {
	_, err := s.revocations().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "until", Value: 1}, {Key: "_id", Value: 1}},
		Options: options.Index().SetName("until_id"),
	})
	if err != nil {
		return fmt.Errorf("revocations index: %w", err)
	}
	return nil
}

// RecordRevocations allocates len(rs) ids with one $inc of the counter
// document, as AppendAuditEvents does, and inserts the rows in one ordered
// insertMany. The counter, not the rows, is the generation, so a purge
// never lowers it.
func (s *Store) RecordRevocations(ctx context.Context, rs []store.Revocation) ([]store.Revocation, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	for _, r := range rs {
		if !store.ValidRevocation(r) {
			return nil, fmt.Errorf("mongostore: record revocations: bad %q revocation: %w", r.Kind, errInvalid)
		}
	}
	now := s.now()
	out := make([]store.Revocation, 0, len(rs))
	// FerretDB does not serialize findAndModify on one document as
	// MongoDB does, so two callers may be handed overlapping ranges; the
	// unique _id refuses the second insert, and the rows it did not store
	// get a fresh range. On MongoDB the loop runs once.
	for attempt := 0; len(rs) > 0; attempt++ {
		seq, err := s.allocateRevocationIDs(ctx, int64(len(rs)))
		if err != nil {
			return nil, mapErr("record revocations: allocate ids", err)
		}
		first := seq - int64(len(rs)) + 1
		batch := make([]store.Revocation, len(rs))
		docs := make([]any, len(rs))
		for i, r := range rs {
			r.ID, r.CreatedAt, r.Until = first+int64(i), canon(now), canon(r.Until)
			d := revocationDoc{ID: r.ID, Kind: r.Kind, Subject: r.Subject, Value: r.Value, Until: micros(r.Until), CreatedAt: micros(now)}
			if r.Kind == store.RevocationCutoff {
				r.Cutoff = canon(r.Cutoff)
				d.Cutoff = micros(r.Cutoff)
			} else {
				r.Cutoff = time.Time{}
			}
			batch[i], docs[i] = r, d
		}
		_, err = s.revocations().InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		if err == nil {
			out = append(out, batch...)
			break
		}
		bwe, ok := errors.AsType[mongo.BulkWriteException](err)
		if !ok || attempt >= 19 || len(bwe.WriteErrors) == 0 || !mongo.IsDuplicateKeyError(err) {
			return nil, mapErr("record revocations", err)
		}
		done := bwe.WriteErrors[0].Index // ordered: every row before it was stored
		out = append(out, batch[:done]...)
		rs = rs[done:]
		if err := s.raiseRevocationCounter(ctx); err != nil {
			return nil, mapErr("record revocations: allocate ids", err)
		}
	}
	return out, nil
}

// allocateRevocationIDs adds n to the counter and returns its new value.
// Two upserts racing on the first use may both try to insert the counter
// document; the loser's duplicate-key error means it now exists, so the
// $inc is sent once more and finds it.
func (s *Store) allocateRevocationIDs(ctx context.Context, n int64) (int64, error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}}}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	err := s.counters.FindOneAndUpdate(ctx, byID(revocationCounter), inc, opts).Decode(&c)
	if mongo.IsDuplicateKeyError(err) {
		err = s.counters.FindOneAndUpdate(ctx, byID(revocationCounter), inc, opts).Decode(&c)
	}
	return c.Seq, err
}

// raiseRevocationCounter lifts the counter to the highest stored id, past
// the range a lost $inc handed out twice.
func (s *Store) raiseRevocationCounter(ctx context.Context) error {
	top, err := s.topRevocationID(ctx)
	if err != nil {
		return err
	}
	_, err = s.counters.UpdateOne(ctx, byID(revocationCounter), bson.D{{Key: "$max", Value: bson.D{{Key: "seq", Value: top}}}})
	return err
}

// LiveRevocations pages the live revocations by id.
func (s *Store) LiveRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]store.Revocation, error) {
	if limit < 1 || limit > store.MaxRevocationPage {
		return nil, fmt.Errorf("mongostore: live revocations: limit %d outside 1..%d: %w", limit, store.MaxRevocationPage, errInvalid)
	}
	filter := bson.D{
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
		{Key: "until", Value: bson.D{{Key: "$gt", Value: micros(now)}}},
	}
	var docs []revocationDoc
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit))
	if err := findAll(ctx, s.revocations(), filter, opts, &docs); err != nil {
		return nil, mapErr("live revocations", err)
	}
	out := make([]store.Revocation, len(docs))
	for i, d := range docs {
		out[i] = store.Revocation{ID: d.ID, Kind: d.Kind, Subject: d.Subject, Value: d.Value,
			Until: fromMicros(d.Until), CreatedAt: fromMicros(d.CreatedAt)}
		if d.Kind == store.RevocationCutoff {
			out[i].Cutoff = fromMicros(d.Cutoff)
		}
	}
	return out, nil
}

// RevocationGeneration reads the counter document and the highest id.
func (s *Store) RevocationGeneration(ctx context.Context) (int64, error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOne(ctx, byID(revocationCounter)).Decode(&c)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, mapErr("revocation generation", err)
	}
	// On FerretDB two $inc may be lost to each other, leaving the counter
	// below an id that was stored; the highest id covers that.
	top, err := s.topRevocationID(ctx)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, mapErr("revocation generation", err)
	}
	return max(c.Seq, top), nil
}

// topRevocationID returns the highest stored id (mongo.ErrNoDocuments
// when there is none).
func (s *Store) topRevocationID(ctx context.Context) (int64, error) {
	var top struct {
		ID int64 `bson:"_id"`
	}
	err := s.revocations().FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&top)
	return top.ID, err
}

// PurgeRevocations reads up to limit expired ids, oldest first, and
// deletes them with one deleteMany.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxRevocationPage {
		return 0, fmt.Errorf("mongostore: purge revocations: limit %d outside 1..%d: %w", limit, store.MaxRevocationPage, errInvalid)
	}
	var docs []struct {
		ID int64 `bson:"_id"`
	}
	opts := options.Find().SetSort(bson.D{{Key: "until", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(limit)).SetProjection(bson.D{{Key: "_id", Value: 1}})
	filter := bson.D{{Key: "until", Value: bson.D{{Key: "$lte", Value: micros(before)}}}}
	if err := findAll(ctx, s.revocations(), filter, opts, &docs); err != nil {
		return 0, mapErr("purge revocations", err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	res, err := s.revocations().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, mapErr("purge revocations", err)
	}
	return int(res.DeletedCount), nil
}
