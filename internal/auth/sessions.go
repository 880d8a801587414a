package auth

import (
	"context"
	"time"
)

// SessionInfo is one live session as its user sees it.
type SessionInfo struct {
	ID              string
	CreatedAt       time.Time
	LastRefreshedAt time.Time
	// UserAgent and IP are those of the login or the latest refresh.
	UserAgent string
	IP        string
	// Current marks the session of the calling token.
	Current bool
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, c Caller) ([]SessionInfo, error) {
	sessions, err := s.store.ListSessions(ctx, c.UserID, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(sessions))
	for i, sess := range sessions {
		out[i] = SessionInfo{
			ID: sess.ID, CreatedAt: sess.CreatedAt, LastRefreshedAt: sess.LastRefreshedAt,
			UserAgent: sess.UserAgent, IP: sess.IP, Current: sess.ID == c.SessionID,
		}
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions: the store first (its
// refresh token stops working), then its sid on the denylist (so do its
// access tokens). Another user's session and an unknown id are both
// ErrNotFound, so ids cannot be probed; one already ended is ended again,
// harmlessly.
func (s *Service) RevokeSession(ctx context.Context, c Caller, sessionID string) error {
	now := s.cfg.Clock()
	if err := s.store.RevokeSession(ctx, c.UserID, sessionID, now); isNotFound(err) {
		return fail(ErrNotFound, "no such session")
	} else if err != nil {
		return failWith(ErrUnavailable, "the session could not be ended; retry", err)
	}
	if err := s.denylist.RevokeSessions(ctx, c.UserID, []string{sessionID}, s.revocationHorizon(now)); err != nil {
		return failWith(ErrUnavailable, "the session could not be ended; retry", err)
	}
	ev := deviceEvent(EventSessionRevoked, OutcomeSuccess, c.Device)
	ev.UserID, ev.SessionID = c.UserID, sessionID // the session ended, not the caller's
	s.record(ctx, ev)
	return nil
}
