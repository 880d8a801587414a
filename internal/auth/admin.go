package auth

import (
	"context"
	"errors"

	"github.com/authd/authd/pkg/store"
)

// Every method here takes the Actor who acts and records an event naming
// them (ActorID, and the actor's device) and the target (UserID). An actor
// with a user id (an admin through the API) may not disable or delete
// themselves nor revoke their own admin role: the last admin could
// otherwise lock everyone out of the admin API. The CLI's actor has no
// user id, so the operator at the machine is never refused: it is how an
// admin is made in the first place.

// DisableUser stops a user from logging in or refreshing (403
// user_disabled) and ends every session at once: refresh families in the
// store, and the sessions plus a cutoff on the denylist so that live access
// tokens are refused too. Disabling twice is harmless; disabling oneself
// is ErrConflict.
func (s *Service) DisableUser(ctx context.Context, actor Actor, userID string) error {
	if actor.UserID != "" && actor.UserID == userID {
		return fail(ErrConflict, "an admin cannot disable their own account")
	}
	if err := s.setDisabled(ctx, userID, true); err != nil {
		return err
	}
	if err := s.endAllSessions(ctx, userID, "", s.cfg.Clock()); err != nil {
		return failWith(ErrUnavailable, "the user is disabled but their sessions could not all be revoked; retry", err)
	}
	s.record(ctx, actorEvent(EventUserDisabled, actor, userID, ""))
	return nil
}

// EnableUser lets a disabled user log in again; old sessions stay ended.
func (s *Service) EnableUser(ctx context.Context, actor Actor, userID string) error {
	if err := s.setDisabled(ctx, userID, false); err != nil {
		return err
	}
	s.record(ctx, actorEvent(EventUserEnabled, actor, userID, ""))
	return nil
}

func (s *Service) setDisabled(ctx context.Context, userID string, disabled bool) error {
	err := s.store.SetUserDisabled(ctx, userID, disabled)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchUser()
	}
	return err
}

// GrantRole grants a role; access tokens carry it from the next login or
// refresh. The name must pass store.ValidateRole (roles travel in
// X-Auth-Roles as a comma-separated list); otherwise ErrInvalidRequest.
// Granting a role held already is not an error.
func (s *Service) GrantRole(ctx context.Context, actor Actor, userID, role string) error {
	if err := checkRole(role); err != nil {
		return err
	}
	return s.changeRole(ctx, actor, userID, role, true)
}

// RevokeRole removes a role; tokens already issued keep it until they
// expire (at most the access TTL). Any name up to maxRevokedRoleLength is
// accepted, so that a role outside today's grammar, stored by an older
// release, can be removed. Revoking a role not held is not an error;
// revoking one's own admin role is ErrConflict.
func (s *Service) RevokeRole(ctx context.Context, actor Actor, userID, role string) error {
	if role == "" || len(role) > maxRevokedRoleLength {
		return fail(ErrInvalidRequest, "a role to revoke is 1 to 1024 bytes")
	}
	if actor.UserID != "" && actor.UserID == userID && role == s.cfg.AdminRole {
		return fail(ErrConflict, "an admin cannot revoke their own admin role")
	}
	// The store revokes from an unknown user without a word; the admin
	// API answers 404 for one.
	if _, err := s.userByID(ctx, userID); err != nil {
		return err
	}
	return s.changeRole(ctx, actor, userID, role, false)
}

// maxRevokedRoleLength bounds the names RevokeRole takes (and writes to the
// audit trail); older releases stored no longer ones in practice.
const maxRevokedRoleLength = 1024

// checkRole refuses a name outside the role grammar with ErrInvalidRequest.
func checkRole(role string) error {
	if err := store.ValidateRole(role); err != nil {
		return fail(ErrInvalidRequest, "a role is 1 to 64 characters of a-z 0-9 _ . : -, starting with a letter or a digit")
	}
	return nil
}

func (s *Service) changeRole(ctx context.Context, actor Actor, userID, role string, grant bool) error {
	change, detail := s.store.RevokeRole, "revoke:"+role
	if grant {
		change, detail = s.store.GrantRole, "grant:"+role
	}
	err := change(ctx, userID, role)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchUser()
	}
	if err != nil {
		return err
	}
	s.record(ctx, actorEvent(EventRoleChange, actor, userID, detail))
	return nil
}

// actorEvent is a successful event of typ that actor caused on target.
func actorEvent(typ string, actor Actor, target, detail string) Event {
	ev := deviceEvent(typ, OutcomeSuccess, actor.Device)
	ev.ActorID, ev.UserID, ev.Detail = actor.UserID, target, detail
	return ev
}

// userByID reads a user for an admin action; unknown is ErrNotFound.
func (s *Service) userByID(ctx context.Context, userID string) (store.User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errNoSuchUser()
	}
	return u, err
}

func errNoSuchUser() error { return fail(ErrNotFound, "no such user") }
