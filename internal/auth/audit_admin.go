package auth

import (
	"context"
	"time"

	"github.com/authd/authd/pkg/store"
)

// AuditFilter selects a page of the audit trail. Zero fields do not
// filter.
type AuditFilter struct {
	UserID string
	Type   string
	// Since keeps events at or after it.
	Since time.Time
	// Cursor is a page's NextCursor; empty starts at the newest event.
	Cursor string
	// Limit is the page size, 1 to MaxPageLimit; 0 means DefaultPageLimit.
	Limit int
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []store.AuditEvent
	// NextCursor continues with older events; empty when none is left.
	NextCursor string
}

// maxFilterLength bounds the user id and type an audit query filters on.
const maxFilterLength = 128

// AuditEvents returns a page of the audit trail, newest first. Events
// are written off the request path, so the newest may appear a moment
// after the action they record.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return AuditPage{}, err
	}
	before, err := decodeAuditCursor(f.Cursor)
	if err != nil {
		return AuditPage{}, err
	}
	if len(f.UserID) > maxFilterLength || len(f.Type) > maxFilterLength {
		return AuditPage{}, fail(ErrInvalidRequest, "user_id and type are at most 128 bytes")
	}
	events, err := s.store.AuditEvents(ctx, store.AuditQuery{
		Before: before, Limit: limit + 1, UserID: f.UserID, Type: f.Type, Since: f.Since,
	})
	if err != nil {
		return AuditPage{}, err
	}
	var page AuditPage
	page.Events, page.NextCursor = cutPage(events, limit, func(e store.AuditEvent) string {
		return encodeCursor(auditCursor{Before: e.ID})
	})
	return page, nil
}
