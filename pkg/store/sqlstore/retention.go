package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Purge statements. MySQL has no LIMIT in an IN subquery but orders and
// limits a single-table DELETE itself; the others delete the ids the
// audit_events_at index yields first.
const (
	purgeAuditSQL = `DELETE FROM audit_events WHERE id IN
		(SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)`
	purgeAuditMySQL = `DELETE FROM audit_events WHERE at < ? ORDER BY at LIMIT ?`
)

// PurgeAuditEvents deletes up to limit of the oldest events before before
// in one statement (its own transaction), which the append-only triggers
// allow only for rows older than store.MinAuditAge on the database's
// clock.
func (s *Store) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := store.CheckAuditPurge(s.now(), before, limit); err != nil {
		return 0, fmt.Errorf("sqlstore: purge audit events: %w: %w", err, errInvalid)
	}
	q := purgeAuditSQL
	if s.d.mysql {
		q = purgeAuditMySQL
	}
	res, err := exec(ctx, s.wq, s.d.rebind(q), dbTime(before), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge audit events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge audit events: %w", classify(err))
	}
	return n, nil
}
