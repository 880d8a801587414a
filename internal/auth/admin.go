package auth

import (
	"context"
	"errors"

	"github.com/authd/authd/pkg/store"
)

// DisableUser stops a user from logging in or refreshing (403
// user_disabled) and ends every session at once: refresh families in the
// store, and the sessions plus a cutoff on the denylist so that live access
// tokens are refused too. Disabling twice is harmless.
func (s *Service) DisableUser(ctx context.Context, userID string) error {
	if err := s.setDisabled(ctx, userID, true); err != nil {
		return err
	}
	if err := s.endAllSessions(ctx, userID, "", s.cfg.Clock()); err != nil {
		return failWith(ErrUnavailable, "the user is disabled but their sessions could not all be revoked; retry", err)
	}
	s.record(ctx, Event{Type: EventUserDisabled, Outcome: OutcomeSuccess, UserID: userID})
	return nil
}

// EnableUser lets a disabled user log in again; old sessions stay ended.
func (s *Service) EnableUser(ctx context.Context, userID string) error {
	if err := s.setDisabled(ctx, userID, false); err != nil {
		return err
	}
	s.record(ctx, Event{Type: EventUserEnabled, Outcome: OutcomeSuccess, UserID: userID})
	return nil
}

func (s *Service) setDisabled(ctx context.Context, userID string, disabled bool) error {
	err := s.store.SetUserDisabled(ctx, userID, disabled)
	if errors.Is(err, store.ErrNotFound) {
		return fail(ErrNotFound, "no such user")
	}
	return err
}

// GrantRole grants a role; access tokens carry it from the next login or
// refresh. Roles are 1 to 64 printable characters without spaces or commas
// (they travel in X-Auth-Roles as a comma-separated list).
func (s *Service) GrantRole(ctx context.Context, userID, role string) error {
	return s.changeRole(ctx, userID, role, true)
}

// RevokeRole removes a role; tokens already issued keep it until they
// expire (at most the access TTL).
func (s *Service) RevokeRole(ctx context.Context, userID, role string) error {
	return s.changeRole(ctx, userID, role, false)
}

func (s *Service) changeRole(ctx context.Context, userID, role string, grant bool) error {
	if !validRole(role) {
		return fail(ErrInvalidRequest, "a role is 1 to 64 printable characters without spaces or commas")
	}
	change, detail := s.store.RevokeRole, "revoke:"+role
	if grant {
		change, detail = s.store.GrantRole, "grant:"+role
	}
	err := change(ctx, userID, role)
	if errors.Is(err, store.ErrNotFound) {
		return fail(ErrNotFound, "no such user")
	}
	if err != nil {
		return err
	}
	s.record(ctx, Event{Type: EventRoleChange, Outcome: OutcomeSuccess, UserID: userID, Detail: detail})
	return nil
}

func validRole(role string) bool {
	if role == "" || len(role) > 64 {
		return false
	}
	for _, r := range role {
		if r <= ' ' || r == ',' || r == 0x7f {
			return false
		}
	}
	return true
}
