package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/authd/authd/pkg/store"
)

// userCols are the columns of users that userRow scans (roles aside).
const userCols = `u.id, u.email, u.password_hash, u.email_verified, u.disabled, u.created_at, u.updated_at,
	u.credential_version, u.last_login_at`

type userQueries struct {
	insert, byID, byEmail, updateHash, setVerified, grant, revoke string
	rehash, changeHash, setDisabled                               string
}

func newUserQueries(d dialect) userQueries {
	sel := `SELECT ` + userCols + `, ` + d.roles("u.id") + ` AS roles FROM users u `
	return userQueries{
		insert: d.rebind(`INSERT INTO users (id, email, password_hash, email_verified, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`),
		byID:    d.rebind(sel + `WHERE u.id = ?`),
		byEmail: d.rebind(sel + `WHERE u.email = ?`),
		// A new password is a credential change: the version moves with it.
		updateHash: d.rebind(`UPDATE users SET password_hash = ?, updated_at = ?,
			credential_version = credential_version + 1 WHERE id = ?`),
		changeHash: d.rebind(`UPDATE users SET password_hash = ?, updated_at = ?,
			credential_version = credential_version + 1 WHERE id = ? AND credential_version = ?`),
		// The same password re-hashed: the version stays, and must still be
		// the one the password was verified at.
		rehash: d.rebind(`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND credential_version = ?`),
		setDisabled: d.rebind(`UPDATE users SET disabled = ?, updated_at = ?,
			credential_version = credential_version + ? WHERE id = ?`),
		// Only while the email is still the one the token was mailed to.
		setVerified: d.rebind(`UPDATE users SET email_verified = ?, updated_at = ? WHERE id = ? AND email = ?`),
		grant:       d.rebind(`INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ` + d.onDuplicateIgnore("user_id, role", "role")),
		revoke:      d.rebind(`DELETE FROM user_roles WHERE user_id = ? AND role = ?`),
	}
}

type userRow struct {
	ID            string   `db:"id"`
	Email         string   `db:"email"`
	PasswordHash  string   `db:"password_hash"`
	EmailVerified bool     `db:"email_verified"`
	Disabled      bool     `db:"disabled"`
	CreatedAt     dbTime   `db:"created_at"`
	UpdatedAt     dbTime   `db:"updated_at"`
	Roles         roleList `db:"roles"`
	CredVersion   int64    `db:"credential_version"`
	LastLoginAt   dbTime   `db:"last_login_at"`
}

func (r userRow) user() store.User {
	return store.User{
		ID:            r.ID,
		Email:         r.Email,
		PasswordHash:  r.PasswordHash,
		EmailVerified: r.EmailVerified,
		Disabled:      r.Disabled,
		Roles:         normalizeRoles(r.Roles),
		CreatedAt:     r.CreatedAt.Time(),
		UpdatedAt:     r.UpdatedAt.Time(),
		LastLoginAt:   r.LastLoginAt.Time(),

		CredentialVersion: r.CredVersion,
	}
}

// normalizeEmail is the stored form of an email. The service may normalise
// further (Unicode); doing the cheap part here too keeps uniqueness
// case-insensitive whatever the caller forgot.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser inserts u and the roles in u.Roles in one transaction. The
// email is stored normalised (trimmed, lower-cased); zero CreatedAt and
// UpdatedAt are set from the store's clock. A taken email or ID is
// store.ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.Email = normalizeEmail(u.Email)
	if u.ID == "" || u.Email == "" || u.PasswordHash == "" {
		return store.User{}, fmt.Errorf("sqlstore: create user: ID, Email and PasswordHash are required: %w", errInvalid)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.CreatedAt, u.UpdatedAt = canon(u.CreatedAt), canon(u.UpdatedAt)
	u.Roles = normalizeRoles(u.Roles)
	for _, role := range u.Roles {
		if err := store.ValidateRole(role); err != nil {
			return store.User{}, fmt.Errorf("sqlstore: create user: %w", err)
		}
	}
	u.CredentialVersion = 0 // a new user's, whatever the caller set
	err := s.inTx(ctx, func(tx runner) error {
		if _, err := exec(ctx, tx, s.uq.insert, u.ID, u.Email, u.PasswordHash, u.EmailVerified, u.Disabled,
			dbTime(u.CreatedAt), dbTime(u.UpdatedAt)); err != nil {
			return err
		}
		for _, role := range u.Roles {
			if _, err := exec(ctx, tx, s.uq.grant, u.ID, role, dbTime(u.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.User{}, mapWriteErr("create user", err)
	}
	return u, nil
}

// UserByEmail returns the user with that email (normalised before the
// lookup), or store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.getUser(ctx, s.rq, s.uq.byEmail, normalizeEmail(email))
}

// UserByID returns the user with that id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	return s.getUser(ctx, s.rq, s.uq.byID, id)
}

func (s *Store) getUser(ctx context.Context, r runner, query, arg string) (store.User, error) {
	var row userRow
	if err := get(ctx, r, &row, query, arg); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.User{}, fmt.Errorf("sqlstore: user %q: %w", arg, store.ErrNotFound)
		}
		return store.User{}, fmt.Errorf("sqlstore: get user: %w", err)
	}
	return row.user(), nil
}

// UpdatePasswordHash replaces a user's password hash and bumps UpdatedAt
// and CredentialVersion in one statement. An unknown user is
// store.ErrNotFound.
func (s *Store) UpdatePasswordHash(ctx context.Context, userID, hash string) error {
	if hash == "" {
		return fmt.Errorf("sqlstore: update password hash: empty hash: %w", errInvalid)
	}
	res, err := exec(ctx, s.wq, s.uq.updateHash, hash, dbTime(s.now()), userID)
	if err != nil {
		return fmt.Errorf("sqlstore: update password hash: %w", err)
	}
	return requireRow(res, "user", userID)
}

// ChangePasswordHash replaces the hash verified at c.Version, bumps the
// version and carries c.KeepSessionID to it, in one transaction. A moved
// version is store.ErrCredentialsChanged, an unknown user
// store.ErrNotFound.
func (s *Store) ChangePasswordHash(ctx context.Context, c store.PasswordChange) error {
	if c.UserID == "" || c.Hash == "" {
		return fmt.Errorf("sqlstore: change password hash: UserID and Hash are required: %w", errInvalid)
	}
	err := s.inTx(ctx, func(tx runner) error {
		res, err := exec(ctx, tx, s.uq.changeHash, c.Hash, dbTime(s.now()), c.UserID, c.Version)
		if err != nil {
			return err
		}
		if err := s.requireVersion(ctx, tx, res, c.UserID); err != nil {
			return err
		}
		if c.KeepSessionID == "" {
			return nil
		}
		_, err = exec(ctx, tx, s.sq.carry, c.Version+1, c.KeepSessionID, c.UserID, c.Version)
		return err
	})
	if err != nil && !isVersionErr(err) {
		return fmt.Errorf("sqlstore: change password hash: %w", err)
	}
	return err
}

// RehashPassword replaces a user's hash with another hash of the same
// password, provided the version is still version; the version stays.
func (s *Store) RehashPassword(ctx context.Context, userID, hash string, version int64) error {
	if hash == "" {
		return fmt.Errorf("sqlstore: rehash password: empty hash: %w", errInvalid)
	}
	res, err := exec(ctx, s.wq, s.uq.rehash, hash, dbTime(s.now()), userID, version)
	if err != nil {
		return fmt.Errorf("sqlstore: rehash password: %w", err)
	}
	return s.requireVersion(ctx, s.wq, res, userID)
}

// requireVersion turns "no row affected" by a statement conditional on a
// user's credential version into store.ErrNotFound (no such user) or
// store.ErrCredentialsChanged (the version moved on). r is where the
// statement ran, so that the check sees what it saw.
func (s *Store) requireVersion(ctx context.Context, r runner, res sql.Result, userID string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: rows affected: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := s.getUser(ctx, r, s.uq.byID, userID); err != nil {
		return err
	}
	return fmt.Errorf("sqlstore: user %q: %w", userID, store.ErrCredentialsChanged)
}

// isVersionErr reports whether err is one requireVersion made, which
// carries its own context.
func isVersionErr(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCredentialsChanged)
}

// SetEmailVerified marks a user's email verified, provided it is still
// email (compared normalised). Otherwise, or for an unknown user,
// store.ErrNotFound.
func (s *Store) SetEmailVerified(ctx context.Context, userID, email string) error {
	res, err := exec(ctx, s.wq, s.uq.setVerified, true, dbTime(s.now()), userID, normalizeEmail(email))
	if err != nil {
		return fmt.Errorf("sqlstore: set email verified: %w", err)
	}
	return requireRow(res, "user with that email", userID)
}

// GrantRole grants role to a user; granting it again does nothing. An
// unknown user is store.ErrNotFound; a name outside store.ValidateRole's
// grammar is store.ErrInvalidRole, checked here too as the last line of
// defence for callers that forgot.
func (s *Store) GrantRole(ctx context.Context, userID, role string) error {
	if err := store.ValidateRole(role); err != nil {
		return fmt.Errorf("sqlstore: grant role: %w", err)
	}
	if _, err := exec(ctx, s.wq, s.uq.grant, userID, role, dbTime(s.now())); err != nil {
		return mapWriteErr("grant role", err)
	}
	return nil
}

// RevokeRole revokes role from a user; revoking a role the user does not
// have (or of an unknown user) does nothing. The name is not checked
// against the grammar, so that a role stored by an older release can be
// removed.
func (s *Store) RevokeRole(ctx context.Context, userID, role string) error {
	if _, err := exec(ctx, s.wq, s.uq.revoke, userID, role); err != nil {
		return fmt.Errorf("sqlstore: revoke role: %w", err)
	}
	return nil
}

// requireRow turns "no row affected" into store.ErrNotFound.
func requireRow(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: rows affected: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// SetUserDisabled sets a user's disabled flag; disabling bumps the
// credential version in the same statement. An unknown user is
// store.ErrNotFound.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	bump := 0
	if disabled {
		bump = 1
	}
	res, err := exec(ctx, s.wq, s.uq.setDisabled, disabled, dbTime(s.now()), bump, userID)
	if err != nil {
		return fmt.Errorf("sqlstore: set user disabled: %w", err)
	}
	return requireRow(res, "user", userID)
}
