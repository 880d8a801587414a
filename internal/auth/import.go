package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/store"
	"github.com/google/uuid"
)

// Details of refused imports, for the audit trail.
const (
	detailInvalidEmail    = "invalid_email"
	detailInvalidRole     = "invalid_role"
	detailUnsupportedHash = "unsupported_hash"
	detailCostTooHigh     = "cost_too_high"
)

// ImportedUser is an account moved in from another system, with the
// password hash that system stored.
type ImportedUser struct {
	Email         string
	PasswordHash  string
	EmailVerified bool
	Roles         []string
	// Disabled imports the account disabled (a move between backends
	// keeps it so); CreatedAt, when set, is kept as the account's
	// creation time (the import time otherwise).
	Disabled  bool
	CreatedAt time.Time
}

// ImportResult is what ImportUser created.
type ImportResult struct {
	User store.User
	// LowCost is set when the hash's bcrypt cost is below the configured
	// one: the user's next login re-hashes the password at that cost.
	LowCost bool
}

// ImportUser creates an account with a password hash from another system
// (see password.ParseStored for the formats), through the same checks as
// every other path: the email is normalised like a registration's, every
// role must pass store.ValidateRole, and the hash must parse with a bcrypt
// cost of at most password.MaxImportedCost. The first refusal is
// ErrInvalidRequest, whose description says which field and why; an email
// that has an account is ErrEmailTaken.
//
// actor says who imports (the CLI passes its name as the user agent). The
// import is recorded like any admin action: a user_import event, and a
// role_change event per role granted; a refused row records a failed
// user_import with the reason's code.
func (s *Service) ImportUser(ctx context.Context, in ImportedUser, actor Device) (ImportResult, error) {
	ev := deviceEvent(EventUserImport, OutcomeFailure, actor)
	refuse := func(detail string, err error) (ImportResult, error) {
		ev.Detail = detail
		s.record(ctx, ev)
		return ImportResult{}, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		reason := "email is not a valid address"
		if e := (*Error)(nil); errors.As(err, &e) {
			reason = e.Description
		}
		return refuse(detailInvalidEmail, fail(ErrInvalidRequest, "invalid email: "+reason))
	}
	stored, err := password.CheckImported(in.PasswordHash)
	switch {
	case errors.Is(err, password.ErrCostTooHigh):
		return refuse(detailCostTooHigh, fail(ErrInvalidRequest, strings.TrimPrefix(err.Error(), "password: ")))
	case err != nil:
		return refuse(detailUnsupportedHash, fail(ErrInvalidRequest, strings.TrimPrefix(err.Error(), "password: ")))
	}
	roles := slices.Clone(in.Roles)
	for _, role := range roles {
		if err := store.ValidateRole(role); err != nil {
			return refuse(detailInvalidRole, fail(ErrInvalidRequest, fmt.Sprintf(
				"invalid role %.64q: 1 to %d of a-z 0-9 _ . : -, starting with a letter or a digit", role, store.MaxRoleLength)))
		}
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	now := s.cfg.Clock().UTC().Truncate(time.Microsecond)
	created := now
	if !in.CreatedAt.IsZero() {
		created = in.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	var u store.User
	if err = s.takenByOldSpelling(ctx, email); err == nil {
		u, err = s.store.CreateUser(ctx, store.User{
			ID: uuid.NewString(), Email: email, PasswordHash: in.PasswordHash, EmailVerified: in.EmailVerified,
			Disabled: in.Disabled, Roles: roles, CreatedAt: created, UpdatedAt: now,
		})
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		return refuse(detailEmailTaken, fail(ErrEmailTaken, "a user with this email already exists"))
	}
	if err != nil {
		return ImportResult{}, err
	}
	ev.Outcome, ev.UserID, ev.Detail = OutcomeSuccess, u.ID, stored.Format()
	s.record(ctx, ev)
	for _, role := range u.Roles {
		grant := deviceEvent(EventRoleChange, OutcomeSuccess, actor)
		grant.UserID, grant.Detail = u.ID, "grant:"+role
		s.record(ctx, grant)
	}
	return ImportResult{User: u, LowCost: stored.Cost() < s.hasher.Cost()}, nil
}
