package auth

import (
	"context"
	"time"
)

// LogoutScope says which sessions a logout ends.
type LogoutScope string

// Logout scopes.
const (
	LogoutLocal  LogoutScope = "local"  // this session
	LogoutOthers LogoutScope = "others" // every other session of the user
	LogoutGlobal LogoutScope = "global" // every session of the user
)

// ParseLogoutScope maps the API's scope parameter; empty means local.
func ParseLogoutScope(s string) (LogoutScope, error) {
	switch LogoutScope(s) {
	case "", LogoutLocal:
		return LogoutLocal, nil
	case LogoutOthers, LogoutGlobal:
		return LogoutScope(s), nil
	}
	return "", fail(ErrInvalidRequest, "scope must be local, others or global")
}

// Caller is the verified access token of the request.
type Caller struct {
	UserID    string
	SessionID string
	TokenID   string
	ExpiresAt time.Time
}

// Logout ends sessions of the caller. The store is updated first (no more
// refreshes), then the denylist (no more use of live access tokens); if
// either fails the call reports ErrUnavailable and may be retried, since
// every step is idempotent. It never reports success it did not record.
func (s *Service) Logout(ctx context.Context, c Caller, scope LogoutScope) error {
	now := s.cfg.Clock()
	horizon := s.revocationHorizon(now)
	unavailable := func(err error) error {
		return failWith(ErrUnavailable, "logout could not be recorded; retry", err)
	}
	switch scope {
	case LogoutLocal:
		if err := s.store.RevokeSession(ctx, c.UserID, c.SessionID, now); err != nil && !isNotFound(err) {
			return unavailable(err)
		}
		if err := s.denylist.RevokeSessions(ctx, []string{c.SessionID}, horizon); err != nil {
			return unavailable(err)
		}
		if err := s.denylist.RevokeToken(ctx, c.TokenID, c.ExpiresAt); err != nil {
			return unavailable(err)
		}
	case LogoutOthers:
		ids, err := s.store.RevokeUserSessions(ctx, c.UserID, c.SessionID, now)
		if err != nil {
			return unavailable(err)
		}
		if len(ids) > 0 {
			if err := s.denylist.RevokeSessions(ctx, ids, horizon); err != nil {
				return unavailable(err)
			}
		}
	case LogoutGlobal:
		ids, err := s.store.RevokeUserSessions(ctx, c.UserID, "", now)
		if err != nil {
			return unavailable(err)
		}
		// The cutoff also catches sessions the store listing could race
		// with; the sid entries catch tokens issued in the current second.
		ids = append(ids, c.SessionID)
		if err := s.denylist.RevokeSessions(ctx, ids, horizon); err != nil {
			return unavailable(err)
		}
		if err := s.denylist.RevokeUserBefore(ctx, c.UserID, now, horizon); err != nil {
			return unavailable(err)
		}
	default:
		return fail(ErrInvalidRequest, "scope must be local, others or global")
	}
	return nil
}
