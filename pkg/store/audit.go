package store

import (
	"context"
	"time"
)

// AuditEvent is one entry of the append-only audit trail: who did what,
// from where, with what outcome. It never carries a secret (no password,
// token or key); Detail is a short machine-readable reason.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Type      string // e.g. login, refresh, refresh_reuse, logout, password_change
	Outcome   string // success, failure, denied, ...
	UserID    string
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
	// RecentAuditEvents returns up to limit events, newest first; a
	// non-empty userID keeps only that user's.
	RecentAuditEvents(ctx context.Context, limit int, userID string) ([]AuditEvent, error)
}
