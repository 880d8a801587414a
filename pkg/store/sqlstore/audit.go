package sqlstore

import (
	"context"
	"fmt"

	"github.com/authd/authd/pkg/store"
)

var _ store.AuditLog = (*Store)(nil)

// maxAuditLimit bounds one RecentAuditEvents read.
const maxAuditLimit = 1000

const (
	insertAuditSQL = `INSERT INTO audit_events (at, type, outcome, user_id, session_id, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	recentAuditSQL = `SELECT id, at, type, outcome, user_id, session_id, ip, user_agent, detail
		FROM audit_events ORDER BY id DESC LIMIT ?`
	recentUserAuditSQL = `SELECT id, at, type, outcome, user_id, session_id, ip, user_agent, detail
		FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?`
)

type auditRow struct {
	ID        int64  `db:"id"`
	At        dbTime `db:"at"`
	Type      string `db:"type"`
	Outcome   string `db:"outcome"`
	UserID    string `db:"user_id"`
	SessionID string `db:"session_id"`
	IP        string `db:"ip"`
	UserAgent string `db:"user_agent"`
	Detail    string `db:"detail"`
}

// AppendAuditEvents inserts events in one transaction, in order. A zero At
// is set from the store's clock.
func (s *Store) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	q := s.d.rebind(insertAuditSQL)
	err := s.inTx(ctx, func(tx runner) error {
		for _, e := range events {
			if e.Type == "" || e.Outcome == "" {
				return fmt.Errorf("audit event needs a type and an outcome: %w", errInvalid)
			}
			if e.At.IsZero() {
				e.At = s.now()
			}
			if _, err := exec(ctx, tx, q, dbTime(e.At), e.Type, e.Outcome, e.UserID, e.SessionID, e.IP, e.UserAgent, e.Detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: append audit events: %w", err)
	}
	return nil
}

// RecentAuditEvents returns up to limit (at most 1000) events, newest first,
// of one user when userID is set.
func (s *Store) RecentAuditEvents(ctx context.Context, limit int, userID string) ([]store.AuditEvent, error) {
	if limit <= 0 || limit > maxAuditLimit {
		limit = maxAuditLimit
	}
	var rows []auditRow
	var err error
	if userID == "" {
		err = selectAll(ctx, s.rq, &rows, s.d.rebind(recentAuditSQL), limit)
	} else {
		err = selectAll(ctx, s.rq, &rows, s.d.rebind(recentUserAuditSQL), userID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: recent audit events: %w", err)
	}
	out := make([]store.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = store.AuditEvent{ID: r.ID, At: r.At.Time(), Type: r.Type, Outcome: r.Outcome, UserID: r.UserID,
			SessionID: r.SessionID, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail}
	}
	return out, nil
}
