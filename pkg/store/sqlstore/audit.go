package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/authd/authd/pkg/store"
)

var _ store.AuditLog = (*Store)(nil)

// maxAuditLimit bounds one AuditEvents page.
const maxAuditLimit = 1000

const (
	auditCols      = `id, at, type, outcome, user_id, actor_id, session_id, ip, user_agent, detail`
	insertAuditSQL = `INSERT INTO audit_events (at, type, outcome, user_id, actor_id, session_id, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

type auditRow struct {
	ID        int64  `db:"id"`
	At        dbTime `db:"at"`
	Type      string `db:"type"`
	Outcome   string `db:"outcome"`
	UserID    string `db:"user_id"`
	ActorID   string `db:"actor_id"`
	SessionID string `db:"session_id"`
	IP        string `db:"ip"`
	UserAgent string `db:"user_agent"`
	Detail    string `db:"detail"`
}

func (r auditRow) event() store.AuditEvent {
	return store.AuditEvent{ID: r.ID, At: r.At.Time(), Type: r.Type, Outcome: r.Outcome, UserID: r.UserID,
		ActorID: r.ActorID, SessionID: r.SessionID, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail}
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
			if _, err := exec(ctx, tx, q, dbTime(e.At), e.Type, e.Outcome, e.UserID, e.ActorID, e.SessionID,
				e.IP, e.UserAgent, e.Detail); err != nil {
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

// AuditEvents returns up to q.Limit (1 to 1000; anything else is refused)
// events matching q, newest first by ID. The filters that are set are
// ANDed; the query text depends only on which are set, so at most sixteen
// statements are prepared.
func (s *Store) AuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if q.Limit < 1 || q.Limit > maxAuditLimit {
		return nil, fmt.Errorf("sqlstore: audit events: limit %d outside 1..%d: %w", q.Limit, maxAuditLimit, errInvalid)
	}
	var where []string
	var args []any
	if q.Before != 0 {
		where, args = append(where, "id < ?"), append(args, q.Before)
	}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, q.Type)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, dbTime(q.Since))
	}
	query := `SELECT ` + auditCols + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	var rows []auditRow
	if err := selectAll(ctx, s.rq, &rows, s.d.rebind(query), args...); err != nil {
		return nil, fmt.Errorf("sqlstore: audit events: %w", err)
	}
	out := make([]store.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}
