package denylist

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Entry is one denylist entry to write again: what a RevokeToken,
// RevokeSessions (one sid) or RevokeUserBefore call wrote. A denylist
// rebuilt from a durable record of its writes (internal/revocation) is
// restored from these.
type Entry struct {
	Kind    EventKind // EventToken, EventSession or EventUser
	Subject string
	// ID is the jti or sid; unused for EventUser.
	ID string
	// Cutoff is set for EventUser only.
	Cutoff time.Time
	Until  time.Time
}

// RestoreBatch is how many entries Restore sends per pipelined round trip.
const RestoreBatch = 1000

// Restore writes entries again, RestoreBatch per pipelined round trip (on
// Redis Cluster go-redis splits each pipeline by node, so a batch is one
// round trip per shard). It is idempotent: each write keeps the greater
// cutoff and the later expiry already there, so restoring an entry Redis
// still holds changes nothing, and entries whose until has passed are
// skipped. Each write publishes its event, so mirrors learn it too. With
// WithMinReplicasAck every batch waits for the replicas.
func (r *Redis) Restore(ctx context.Context, entries []Entry) error {
	writes := make([]write, 0, min(len(entries), RestoreBatch)*2)
	for len(entries) > 0 {
		n := min(len(entries), RestoreBatch)
		writes = writes[:0]
		for _, e := range entries[:n] {
			ttl, ok := r.ttl(e.Until)
			if !ok {
				continue
			}
			w, err := r.entryWrites(e, ttl)
			if err != nil {
				return err
			}
			writes = append(writes, w...)
		}
		if len(writes) > 0 {
			if err := r.exec(ctx, "restore", writes); err != nil {
				return err
			}
		}
		entries = entries[n:]
	}
	return nil
}

// entryWrites returns the writes of e, as the Revoke method of its kind
// builds them.
func (r *Redis) entryWrites(e Entry, ttl int64) ([]write, error) {
	switch e.Kind {
	case EventToken:
		if err := validateIDs("jti", e.ID); err != nil {
			return nil, err
		}
		return r.writes(write{key: r.keys.token(e.Subject, e.ID), value: "1", ttlMS: ttl,
			event: Event{Kind: EventToken, ID: e.ID, Until: e.Until}}, r.keys.v1(kindToken, e.ID)), nil
	case EventSession:
		if err := validateIDs("sid", e.ID); err != nil {
			return nil, err
		}
		return r.writes(write{key: r.keys.session(e.Subject, e.ID), value: "1", ttlMS: ttl,
			event: Event{Kind: EventSession, ID: e.ID, Until: e.Until}}, r.keys.v1(kindSession, e.ID)), nil
	case EventUser:
		if err := validateIDs("subject", e.Subject); err != nil {
			return nil, err
		}
		return r.writes(write{key: r.keys.cutoff(e.Subject), value: strconv.FormatInt(e.Cutoff.Unix(), 10), max: true, ttlMS: ttl,
			event: Event{Kind: EventUser, ID: e.Subject, Until: e.Until, Cutoff: e.Cutoff}}, r.keys.v1(kindUser, e.Subject)), nil
	}
	return nil, fmt.Errorf("%w: entry kind %q", ErrInvalidArgument, e.Kind)
}
