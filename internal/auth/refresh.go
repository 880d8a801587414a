package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authd/authd/pkg/store"
)

// Refresh rotates a refresh token (RFC 9700 §4.14.2) and returns a new
// token pair. Presenting an already-rotated token outside the grace window
// revokes the whole session, including its access tokens.
func (s *Service) Refresh(ctx context.Context, refreshToken string, device Device) (*Tokens, error) {
	if refreshToken == "" {
		return nil, fail(ErrInvalidRequest, "refresh_token is required")
	}
	invalid := fail(ErrInvalidGrant, "the refresh token is invalid, expired or revoked")
	claims, err := s.refresh.Verify(ctx, refreshToken)
	if err != nil {
		return nil, failWith(ErrInvalidGrant, "the refresh token is invalid, expired or revoked", err)
	}
	now := s.cfg.Clock()
	res, err := s.store.RotateRefresh(ctx, store.Rotation{
		SessionID:    claims.SessionID,
		PresentedJTI: claims.ID,
		NewJTI:       newID(),
		NewIssuedAt:  now,
		NewExpiresAt: now.Add(s.cfg.RefreshTTL),
		Grace:        s.cfg.RefreshReuseGrace,
		Now:          now,
		UserAgent:    device.UserAgent,
		IP:           device.IP,
	})
	switch {
	case errors.Is(err, store.ErrRefreshReused):
		ev := deviceEvent(EventRefreshReuse, OutcomeFailure, device)
		ev.UserID, ev.SessionID, ev.Detail = claims.Subject, claims.SessionID, detailSessionRevoked
		s.record(ctx, ev)
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "refresh token reuse detected: session revoked",
			slog.String("user_id", claims.Subject), slog.String("session_id", claims.SessionID))
		if err := s.denylist.RevokeSessions(ctx, claims.Subject, []string{claims.SessionID}, s.revocationHorizon(now)); err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "denylisting a reused session failed; its access tokens live until they expire",
				slog.String("session_id", claims.SessionID), slog.Any("error", err))
		}
		return nil, invalid
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrSessionRevoked):
		return nil, invalid
	case err != nil:
		return nil, err
	}
	if res.Session.UserID != claims.Subject {
		// A valid signature with a mismatched subject means a bug or a
		// tampered store; refuse rather than mint for someone else.
		return nil, invalid
	}
	if res.User.Disabled {
		return nil, fail(ErrUserDisabled, "this account is disabled")
	}
	if s.requiresMFA(res.User) && !hasSecondFactor(sessionAMR(res.Session)) {
		// A role that requires a second factor was granted after this
		// session's login: its tokens end here, and the next login asks
		// for the factor (or its enrolment).
		ev := deviceEvent(EventRefresh, OutcomeFailure, device)
		ev.UserID, ev.SessionID, ev.Detail = res.User.ID, res.Session.ID, ErrMFAEnrollmentRequired.Error()
		s.record(ctx, ev)
		return nil, fail(ErrInvalidGrant, "this account now requires a second factor; log in again")
	}
	ev := deviceEvent(EventRefresh, OutcomeSuccess, device)
	ev.UserID, ev.SessionID = res.User.ID, res.Session.ID
	s.record(ctx, ev)
	return s.mintSession(res.User, res.Session, now)
}
