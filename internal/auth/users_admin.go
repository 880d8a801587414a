package auth

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/authd/authd/pkg/store"
	"github.com/google/uuid"
)

// Page sizes of the admin listings.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// UserFilter selects a page of users. Zero fields do not filter.
type UserFilter struct {
	// Cursor is a page's NextCursor; empty starts at the first user.
	Cursor string
	// Limit is the page size, 1 to MaxPageLimit; 0 means DefaultPageLimit.
	Limit int
	// EmailPrefix keeps users whose stored email starts with it, compared
	// lower-cased (stored emails are: the local part lower-cased, the
	// domain as its IDNA A-label).
	EmailPrefix string
	// Role keeps the holders of a role (a name of the role grammar).
	Role string
	// Disabled, when set, keeps users whose Disabled equals it.
	Disabled *bool
}

// UserPage is one page of users in creation order.
type UserPage struct {
	Users []store.User
	// NextCursor continues after the last user; empty when no user is
	// left.
	NextCursor string
}

// ListUsers returns a page of users in (created, id) order, which never
// changes for a user, so that paging neither repeats nor skips a user
// while others are added or deleted.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) (UserPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return UserPage{}, err
	}
	after, err := decodeUserCursor(f.Cursor)
	if err != nil {
		return UserPage{}, err
	}
	prefix, err := emailPrefix(f.EmailPrefix)
	if err != nil {
		return UserPage{}, err
	}
	if f.Role != "" {
		if err := checkRole(f.Role); err != nil {
			return UserPage{}, err
		}
	}
	users, err := s.store.ListUsers(ctx, store.UserQuery{
		After: after, Limit: limit + 1, EmailPrefix: prefix, Role: f.Role, Disabled: f.Disabled,
	})
	if err != nil {
		return UserPage{}, err
	}
	var page UserPage
	page.Users, page.NextCursor = cutPage(users, limit, encodeUserCursor)
	return page, nil
}

// pageLimit checks a page size; 0 is the default.
func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageLimit, nil
	case n < 1 || n > MaxPageLimit:
		return 0, fail(ErrInvalidRequest, "limit must be between 1 and 200")
	}
	return n, nil
}

// maxEmailPrefix is the longest email_prefix: an address's length.
const maxEmailPrefix = 254

// emailPrefix normalises a filter prefix as far as a fragment of an
// address can be: trimmed and lower-cased. Control characters are refused.
func emailPrefix(p string) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if len(p) > maxEmailPrefix || strings.ContainsFunc(p, unicode.IsControl) {
		return "", fail(ErrInvalidRequest, "email_prefix must be at most 254 bytes, without control characters")
	}
	return p, nil
}

// UserDetail is a user as the admin API shows one.
type UserDetail struct {
	User store.User
	// Sessions counts the user's live sessions.
	Sessions int
}

// UserDetail returns a user with their count of live sessions; the
// user's LastLoginAt is zero if they never logged in.
func (s *Service) UserDetail(ctx context.Context, userID string) (UserDetail, error) {
	u, err := s.userByID(ctx, userID)
	if err != nil {
		return UserDetail{}, err
	}
	sessions, err := s.store.ListSessions(ctx, u.ID, s.cfg.Clock())
	if err != nil {
		return UserDetail{}, err
	}
	return UserDetail{User: u, Sessions: len(sessions)}, nil
}

// NewUser is an account an admin creates.
type NewUser struct {
	Email string
	// Password, when empty, leaves the account without a usable one and
	// mails an invitation to set it.
	Password      string
	Roles         []string
	EmailVerified bool
}

// CreateUser creates an account for an admin. With a password it passes
// the registration policy; without one the account gets a hash no
// password matches, and its owner an invite mail whose link (a password
// reset token valid for InviteTTL) sets the password through the reset
// endpoint. Roles must pass the role grammar. A taken email is
// ErrEmailTaken. Events: user_created, and role_change per role.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in NewUser) (store.User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return store.User{}, err
	}
	roles, err := uniqueRoles(in.Roles)
	if err != nil {
		return store.User{}, err
	}
	hash, err := s.initialHash(ctx, in.Password)
	if err != nil {
		return store.User{}, err
	}
	now := s.cfg.Clock().UTC().Truncate(time.Microsecond)
	var u store.User
	if err = s.takenByOldSpelling(ctx, email); err == nil {
		u, err = s.store.CreateUser(ctx, store.User{
			ID: uuid.NewString(), Email: email, PasswordHash: hash, EmailVerified: in.EmailVerified,
			Roles: roles, CreatedAt: now, UpdatedAt: now,
		})
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.User{}, fail(ErrEmailTaken, "an account with this email already exists")
	}
	if err != nil {
		return store.User{}, err
	}
	detail := "password"
	if in.Password == "" {
		detail = "invite"
		s.mailInvite(u)
	}
	s.record(ctx, actorEvent(EventUserCreated, actor, u.ID, detail))
	for _, role := range u.Roles {
		s.record(ctx, actorEvent(EventRoleChange, actor, u.ID, "grant:"+role))
	}
	return u, nil
}

// initialHash is the hash of a new account's password, or, without one,
// a value that is no hash: it never parses, so no password matches it and
// a login against it costs what a wrong password costs. No bcrypt is
// spent on it.
func (s *Service) initialHash(ctx context.Context, pw string) (string, error) {
	if pw == "" {
		return unusablePasswordPrefix + newID(), nil
	}
	normalized, err := s.checkPassword(pw)
	if err != nil {
		return "", err
	}
	hash, err := s.hasher.Hash(ctx, normalized)
	if err != nil {
		return "", hashFailed(err)
	}
	return hash, nil
}

// unusablePasswordPrefix marks the stored "hash" of an account created
// without a password (as Django marks unusable passwords with "!").
const unusablePasswordPrefix = "!unusable:"

// uniqueRoles checks every role and returns them sorted without
// repetitions.
func uniqueRoles(in []string) ([]string, error) {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, r := range in {
		if err := checkRole(r); err != nil {
			return nil, err
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// LogoutUser ends every session of a user, as their own logout with scope
// global would: no more refreshes, and every access token issued before
// now refused.
func (s *Service) LogoutUser(ctx context.Context, actor Actor, userID string) error {
	if _, err := s.userByID(ctx, userID); err != nil {
		return err
	}
	if err := s.endAllSessions(ctx, userID, "", s.cfg.Clock()); err != nil {
		return failWith(ErrUnavailable, "the sessions could not all be ended; retry", err)
	}
	s.record(ctx, actorEvent(EventUserLogout, actor, userID, ""))
	return nil
}

// DeleteUser deletes an account: first every session ends (store and
// denylist, as LogoutUser, so that live access tokens are refused at
// once), then the store deletes the user, their roles, sessions and
// one-time tokens and erases the IP and user agent of their audit events,
// which stay under the user id; then every token of the id that can still
// be alive is refused (a login racing the delete included). Deleting
// oneself is ErrConflict. A failure before the delete leaves the account
// in place and may be retried.
func (s *Service) DeleteUser(ctx context.Context, actor Actor, userID string) error {
	if actor.UserID != "" && actor.UserID == userID {
		return fail(ErrConflict, "an admin cannot delete their own account")
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return err
	}
	now := s.cfg.Clock()
	if err := s.endAllSessions(ctx, userID, "", now); err != nil {
		return failWith(ErrUnavailable, "the sessions could not all be ended, and the user is not deleted; retry", err)
	}
	if err := s.store.DeleteUser(ctx, userID); errors.Is(err, store.ErrNotFound) {
		return errNoSuchUser()
	} else if err != nil {
		return err
	}
	s.record(ctx, actorEvent(EventUserDeleted, actor, userID, ""))
	// A login that committed its session between the sign-out and the
	// delete holds tokens the first cutoff predates. The id is never
	// given to another account, so every token of it that can still be
	// alive is refused: the cutoff is the horizon itself.
	horizon := s.revocationHorizon(now)
	if err := s.denylist.RevokeUserBefore(ctx, userID, horizon, horizon); err != nil {
		return failWith(ErrUnavailable, "the user is deleted, but a token issued in its last moments may work until it expires", err)
	}
	return nil
}
