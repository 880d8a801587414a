package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// maxAuditLimit bounds one AuditEvents page.
const maxAuditLimit = 1000

// auditCounter is the counters document whose seq allocates audit ids.
const auditCounter = "audit_events"

type auditDoc struct {
	ID        int64  `bson:"_id"`
	At        int64  `bson:"at"`
	Type      string `bson:"type"`
	Outcome   string `bson:"outcome"`
	UserID    string `bson:"user_id"`
	ActorID   string `bson:"actor_id"`
	SessionID string `bson:"session_id"`
	IP        string `bson:"ip"`
	UserAgent string `bson:"user_agent"`
	Detail    string `bson:"detail"`
}

// AppendAuditEvents allocates len(events) ids with one $inc of the counter
// document (findOneAndUpdate, upserted on first use: the server serializes
// updates of one document, so ranges never overlap and each is above every
// earlier one) and inserts the events with those ids, in order, in one
// ordered insertMany. Ids increase with allocation, not with commit: a
// batch that allocated first may become visible after a later one, and a
// failed insert leaves a gap. Events are not deleted, so AuditQuery.Before
// pages never repeat an event.
func (s *Store) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		if e.Type == "" || e.Outcome == "" {
			return fmt.Errorf("mongostore: append audit events: audit event needs a type and an outcome: %w", errInvalid)
		}
	}
	var c struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOneAndUpdate(ctx, byID(auditCounter),
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(len(events))}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return mapErr("append audit events: allocate ids", err)
	}
	first := c.Seq - int64(len(events)) + 1
	docs := make([]any, len(events))
	for i, e := range events {
		at := e.At
		if at.IsZero() {
			at = s.now()
		}
		docs[i] = auditDoc{ID: first + int64(i), At: micros(at), Type: e.Type, Outcome: e.Outcome, UserID: e.UserID,
			ActorID: e.ActorID, SessionID: e.SessionID, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	}
	if _, err := s.audit.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		return mapErr("append audit events", err)
	}
	return nil
}

// AuditEvents returns up to q.Limit events matching q, newest first by id.
func (s *Store) AuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if q.Limit < 1 || q.Limit > maxAuditLimit {
		return nil, fmt.Errorf("mongostore: audit events: limit %d outside 1..%d: %w", q.Limit, maxAuditLimit, errInvalid)
	}
	filter := bson.D{}
	if q.Before != 0 {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.Before}}})
	}
	if q.UserID != "" {
		filter = append(filter, bson.E{Key: "user_id", Value: q.UserID})
	}
	if q.Type != "" {
		filter = append(filter, bson.E{Key: "type", Value: q.Type})
	}
	if !q.Since.IsZero() {
		filter = append(filter, bson.E{Key: "at", Value: bson.D{{Key: "$gte", Value: micros(q.Since)}}})
	}
	var docs []auditDoc
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(q.Limit))
	if err := findAll(ctx, s.audit, filter, opts, &docs); err != nil {
		return nil, mapErr("audit events", err)
	}
	out := make([]store.AuditEvent, len(docs))
	for i, d := range docs {
		out[i] = store.AuditEvent{ID: d.ID, At: fromMicros(d.At), Type: d.Type, Outcome: d.Outcome, UserID: d.UserID,
			ActorID: d.ActorID, SessionID: d.SessionID, IP: d.IP, UserAgent: d.UserAgent, Detail: d.Detail}
	}
	return out, nil
}
