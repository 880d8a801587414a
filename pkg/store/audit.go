package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AuditEvent is one entry of the append-only audit trail: who did what,
// from where, with what outcome. It never carries a secret (no password,
// token or key); Detail is a short machine-readable reason. Once stored it
// never changes, but for Store.DeleteUser emptying IP and UserAgent of the
// deleted user's events.
type AuditEvent struct {
	ID      int64
	At      time.Time
	Type    string // e.g. login, refresh, refresh_reuse, logout, password_change
	Outcome string // success, failure, denied, ...
	// UserID is the account the event is about (the target of an admin
	// action); ActorID, when set, is the user who acted on it (an admin
	// through the API, or empty for the user themselves and the CLI).
	UserID    string
	ActorID   string
	SessionID string
	IP        string
	UserAgent string
	Detail    string
}

// AuditLog stores audit events. It is separate from Store so that a
// deployment could send the trail elsewhere; sqlstore implements both.
type AuditLog interface {
	// AppendAuditEvents inserts events in one transaction, in order.
	AppendAuditEvents(ctx context.Context, events []AuditEvent) error
	// AuditEvents returns up to q.Limit events matching q, newest first
	// (by ID). A Limit outside 1 to 1000 is an error matching no sentinel.
	AuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// PurgeAuditEvents deletes up to limit (1 to MaxAuditPurgeBatch) of
	// the oldest events whose At is before before, and returns how many it
	// deleted: fewer than limit means none is left. A before later than
	// MinAuditAge ago (on the store's clock) is refused with an error
	// matching no sentinel; the SQL backends' triggers refuse such a
	// DELETE too, on the database's clock, so the last day of the trail
	// cannot be deleted through the application's credentials.
	PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int64, error)
}

// MinAuditAge is how old an audit event must be before it may be purged:
// the shortest audit retention there is.
const MinAuditAge = 24 * time.Hour

// MaxAuditPurgeBatch bounds one PurgeAuditEvents call, so one batch holds
// its locks (and grows the write-ahead log) by a bounded amount.
const MaxAuditPurgeBatch = 100_000

// AuditQuery selects a page of audit events, newest first.
type AuditQuery struct {
	// Before, when non-zero, keeps events whose ID is below it: the ID of
	// the last event of the previous page.
	Before int64
	// Limit is the page size, 1 to 1000.
	Limit int
	// UserID, Type and Since (At >= Since), when set, filter.
	UserID string
	Type   string
	Since  time.Time
}

// errAuditPurge is what CheckAuditPurge's errors wrap.
var errAuditPurge = errors.New("audit purge refused")

// CheckAuditPurge reports why a PurgeAuditEvents(before, limit) call at
// now is refused, or nil: a limit outside 1 to MaxAuditPurgeBatch, or a
// cutoff younger than MinAuditAge. Every backend checks it first.
func CheckAuditPurge(now, before time.Time, limit int) error {
	if limit < 1 || limit > MaxAuditPurgeBatch {
		return fmt.Errorf("limit %d outside 1..%d: %w", limit, MaxAuditPurgeBatch, errAuditPurge)
	}
	if latest := now.Add(-MinAuditAge); before.After(latest) {
		return fmt.Errorf("cutoff %s is less than %s ago: %w", before.UTC().Format(time.RFC3339), MinAuditAge, errAuditPurge)
	}
	return nil
}
