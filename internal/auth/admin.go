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
// refresh. The name must pass store.ValidateRole (roles travel in
// X-Auth-Roles as a comma-separated list); otherwise ErrInvalidRequest.
func (s *Service) GrantRole(ctx context.Context, userID, role string) error {
	if err := store.ValidateRole(role); err != nil {
		return fail(ErrInvalidRequest, "a role is 1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit")
	}
	return s.changeRole(ctx, userID, role, true)
}

// RevokeRole removes a role; tokens already issued keep it until they
// expire (at most the access TTL). Any name up to maxRevokedRoleLength is
// accepted, so that a role outside today's grammar, stored by an older
// release, can be removed.
func (s *Service) RevokeRole(ctx context.Context, userID, role string) error {
	if role == "" || len(role) > maxRevokedRoleLength {
		return fail(ErrInvalidRequest, "a role to revoke is 1 to 1024 bytes")
	}
	return s.changeRole(ctx, userID, role, false)
}

// maxRevokedRoleLength bounds the names RevokeRole takes (and writes to the
// audit trail); older releases stored no longer ones in practice.
const maxRevokedRoleLength = 1024

func (s *Service) changeRole(ctx context.Context, userID, role string, grant bool) error {
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
