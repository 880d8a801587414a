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

// Actor is who performs an administrative action, for the audit trail:
// an admin's user id through the API, or none from the CLI (the operator
// at the machine), whose Device names the command and the OS user.
type Actor struct {
	UserID string
	Device Device
}

// Caller is the verified access token of the request, and the device it
// came from.
type Caller struct {
	UserID    string
	SessionID string
	TokenID   string
	ExpiresAt time.Time
	// AMR is the token's amr: how the session's user authenticated.
	AMR []string
	// Device is recorded in the audit trail.
	Device Device
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
		if err := s.denylist.RevokeSessions(ctx, c.UserID, []string{c.SessionID}, horizon); err != nil {
			return unavailable(err)
		}
		if err := s.denylist.RevokeToken(ctx, c.UserID, c.TokenID, c.ExpiresAt); err != nil {
			return unavailable(err)
		}
	case LogoutOthers:
		if err := s.endOtherSessions(ctx, c.UserID, c.SessionID, now); err != nil {
			return unavailable(err)
		}
	case LogoutGlobal:
		if err := s.endAllSessions(ctx, c.UserID, c.SessionID, now); err != nil {
			return unavailable(err)
		}
	default:
		return fail(ErrInvalidRequest, "scope must be local, others or global")
	}
	ev := deviceEvent(EventLogout, OutcomeSuccess, c.Device)
	ev.UserID, ev.SessionID, ev.Detail = c.UserID, c.SessionID, string(scope)
	s.record(ctx, ev)
	return nil
}

// endOtherSessions ends every session of userID but keepSID: the store
// first (no more refreshes), then their sids on the denylist (no more use
// of their access tokens). Logout scope=others and password change.
func (s *Service) endOtherSessions(ctx context.Context, userID, keepSID string, now time.Time) error {
	ids, err := s.store.RevokeUserSessions(ctx, userID, keepSID, now)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return s.denylist.RevokeSessions(ctx, userID, ids, s.revocationHorizon(now))
}

// endAllSessions ends every session of userID and refuses every token of
// the user issued before now: logout scope=global and password reset.
// currentSID (empty when there is none) is denylisted even if the store
// no longer counts it live.
func (s *Service) endAllSessions(ctx context.Context, userID, currentSID string, now time.Time) error {
	ids, err := s.store.RevokeUserSessions(ctx, userID, "", now)
	if err != nil {
		return err
	}
	// The cutoff also catches sessions the store listing could race with;
	// the sid entries catch tokens issued in the current second.
	if currentSID != "" {
		ids = append(ids, currentSID)
	}
	horizon := s.revocationHorizon(now)
	if len(ids) > 0 {
		if err := s.denylist.RevokeSessions(ctx, userID, ids, horizon); err != nil {
			return err
		}
	}
	return s.denylist.RevokeUserBefore(ctx, userID, now, horizon)
}
