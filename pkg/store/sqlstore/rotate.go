package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authd/authd/pkg/store"
)

// rotateSQL moves a live session from the presented (current) jti to the
// new one. Its WHERE clause is the whole "may rotate" test, so concurrent
// callers presenting the same jti cannot both match: the row lock makes the
// later one re-check against the committed row, where refresh_jti has moved
// on. A session created against a credential version that is no longer its
// owner's does not match either. Empty device details keep the previous
// ones.
//
// Arguments: new jti, new iat, new exp, now, now, user agent, ip,
// session id, presented jti, now.
const rotateSQL = rotateSQLNoReturning + `
RETURNING ` + sessionCols

// rotateSQLNoReturning is rotateSQL without its RETURNING, for MySQL.
const rotateSQLNoReturning = `UPDATE sessions SET
	prev_refresh_jti = refresh_jti,
	refresh_jti = ?, refresh_issued_at = ?, expires_at = ?,
	rotated_at = ?, last_refreshed_at = ?,
	user_agent = COALESCE(NULLIF(?, ''), user_agent),
	ip = COALESCE(NULLIF(?, ''), ip)
WHERE id = ? AND refresh_jti = ? AND revoked_at IS NULL AND expires_at > ?
	AND credential_version = (SELECT u.credential_version FROM users u WHERE u.id = sessions.user_id)`

// rotateWithUserSQL is rotateSQL plus the owner and their roles in the same
// statement (Postgres only: SQLite has no data-modifying CTEs), so the
// common case costs one round trip and no explicit transaction.
func rotateWithUserSQL(d dialect) string {
	return `WITH s AS (` + rotateSQL + `)
` + sessionWithUserSelect(d)
}

// sessionWithUserSQL reads a session with its owner and their roles, in the
// shape of rotationRow (MySQL's fast path, after its rotating UPDATE).
func sessionWithUserSQL(d dialect) string {
	return `WITH s AS (SELECT ` + sessionCols + ` FROM sessions WHERE id = ?)
` + sessionWithUserSelect(d)
}

// sessionWithUserSelect joins the rows of a CTE s (sessions' columns) with
// their owners: a rotationRow per row.
func sessionWithUserSelect(d dialect) string {
	return `SELECT s.id, s.user_id, s.client_id, s.user_agent, s.ip, s.refresh_jti, s.refresh_issued_at, s.expires_at,
	s.prev_refresh_jti, s.rotated_at, s.created_at, s.last_refreshed_at, s.revoked_at, s.credential_version,
	s.amr, s.auth_time,
	u.credential_version AS user_credential_version, u.email AS user_email, u.password_hash AS user_password_hash, u.email_verified AS user_email_verified,
	u.disabled AS user_disabled, u.created_at AS user_created_at, u.updated_at AS user_updated_at,
	u.last_login_at AS user_last_login_at,
	` + d.roles("s.user_id") + ` AS user_roles
FROM s JOIN users u ON u.id = s.user_id`
}

// rotationRow is a row of rotateWithUserSQL.
type rotationRow struct {
	sessionRow
	UserEmail         string   `db:"user_email"`
	UserPasswordHash  string   `db:"user_password_hash"`
	UserEmailVerified bool     `db:"user_email_verified"`
	UserDisabled      bool     `db:"user_disabled"`
	UserCreatedAt     dbTime   `db:"user_created_at"`
	UserUpdatedAt     dbTime   `db:"user_updated_at"`
	UserRoles         roleList `db:"user_roles"`
	UserCredVersion   int64    `db:"user_credential_version"`
	UserLastLoginAt   dbTime   `db:"user_last_login_at"`
}

func (r rotationRow) result() store.RotationResult {
	return store.RotationResult{
		Session: r.session(),
		User: userRow{
			ID: r.UserID, Email: r.UserEmail, PasswordHash: r.UserPasswordHash,
			EmailVerified: r.UserEmailVerified, Disabled: r.UserDisabled,
			CreatedAt: r.UserCreatedAt, UpdatedAt: r.UserUpdatedAt, Roles: r.UserRoles,
			CredVersion: r.UserCredVersion, LastLoginAt: r.UserLastLoginAt,
		}.user(),
	}
}

func rotateArgs(r store.Rotation) []any {
	now := dbTime(r.Now)
	return []any{r.NewJTI, dbTime(r.NewIssuedAt), dbTime(r.NewExpiresAt), now, now, r.UserAgent, r.IP,
		r.SessionID, r.PresentedJTI, now}
}

// RotateRefresh rotates a session's refresh token; see store.Store for the
// outcomes.
//
// On Postgres the common case (the presented jti is current) is the single
// statement rotateWithUserSQL. When it matches nothing, a transaction locks
// the row (SELECT ... FOR UPDATE) and classifies the request. On SQLite the
// whole call is one write transaction: the rotating UPDATE, then the owner,
// or the classification when it matched nothing.
//
// A reuse revokes the session and commits that before ErrRefreshReused is
// returned. Whether the user is disabled is not checked: the caller decides.
func (s *Store) RotateRefresh(ctx context.Context, r store.Rotation) (store.RotationResult, error) {
	if r.SessionID == "" || r.PresentedJTI == "" || r.NewJTI == "" || r.Now.IsZero() ||
		r.NewIssuedAt.IsZero() || r.NewExpiresAt.IsZero() || r.Grace < 0 {
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: SessionID, PresentedJTI, NewJTI, NewIssuedAt, NewExpiresAt and Now are required, Grace >= 0: %w", errInvalid)
	}
	if s.d.mysql {
		return s.rotateMySQL(ctx, r)
	}
	if s.d.postgres {
		var row rotationRow
		err := get(ctx, s.wq, &row, s.sq.rotateWithUser, rotateArgs(r)...)
		switch {
		case err == nil:
			return row.result(), nil
		case !errors.Is(err, sql.ErrNoRows):
			return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: %w", err)
		}
	}
	var out rotateOutcome
	err := s.inTx(ctx, func(tx runner) error {
		var err error
		out, err = s.rotateTx(ctx, tx, r, !s.d.postgres)
		return err
	})
	return out.result(r, err)
}

// result is the answer to r of a rotation transaction that ended with out
// and err: a reuse becomes ErrRefreshReused once the transaction has
// committed the revocation.
func (out rotateOutcome) result(r store.Rotation, err error) (store.RotationResult, error) {
	switch {
	case err != nil && isDomainErr(err):
		return store.RotationResult{}, err
	case err != nil:
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: %w", err)
	case out.reused:
		return store.RotationResult{}, fmt.Errorf("sqlstore: session %q: %w", r.SessionID, store.ErrRefreshReused)
	}
	return out.res, nil
}

// rotateOutcome is what rotateTx decided. A reuse is an outcome, not an
// error, so that inTx commits the revocation.
type rotateOutcome struct {
	res    store.RotationResult
	reused bool
}

// rotateTx rotates or classifies within tx. tryRotate runs the rotating
// UPDATE first (SQLite, where the fast path has not run yet).
func (s *Store) rotateTx(ctx context.Context, tx runner, r store.Rotation, tryRotate bool) (rotateOutcome, error) {
	if tryRotate {
		res, ok, err := s.rotateRow(ctx, tx, r)
		if err != nil || ok {
			return rotateOutcome{res: res}, err
		}
	}
	row, err := getSession(ctx, tx, s.sq.byIDForUpdate, r.SessionID)
	if err != nil {
		return rotateOutcome{}, err
	}
	sess := row.session()
	var version int64
	if err := get(ctx, tx, &version, s.sq.userVersion, sess.UserID); err != nil {
		return rotateOutcome{}, fmt.Errorf("read owner's credential version: %w", err)
	}
	switch store.DecideRotation(sess, version, r) {
	case store.RotateDead:
		// A stale credential version is a session ended by a password
		// change or a sign-out everywhere: refused like a revoked one,
		// whichever jti was presented.
		return rotateOutcome{}, fmt.Errorf("sqlstore: session %q: %w", r.SessionID, store.ErrSessionRevoked)
	case store.RotateFresh:
		// The rotating UPDATE matched nothing a moment ago, yet the row now
		// allows it: it changed in between (in practice unreachable). Rotate
		// under the lock rather than misreport a reuse.
		res, ok, err := s.rotateRow(ctx, tx, r)
		if err == nil && !ok {
			err = errors.New("session changed under lock")
		}
		return rotateOutcome{res: res}, err
	case store.RotateReplay:
		u, err := s.getUser(ctx, tx, s.uq.byID, sess.UserID)
		return rotateOutcome{res: store.RotationResult{Session: sess, User: u, Replayed: true}}, err
	default:
		if _, err := exec(ctx, tx, s.sq.revokeFamily, dbTime(r.Now), r.SessionID); err != nil {
			return rotateOutcome{}, fmt.Errorf("revoke reused session: %w", err)
		}
		return rotateOutcome{reused: true}, nil
	}
}

// rotateRow runs rotateSQL in tx and, when it matched, reads the owner.
func (s *Store) rotateRow(ctx context.Context, tx runner, r store.Rotation) (store.RotationResult, bool, error) {
	var row sessionRow
	if err := get(ctx, tx, &row, s.sq.rotate, rotateArgs(r)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.RotationResult{}, false, nil
		}
		return store.RotationResult{}, false, err
	}
	u, err := s.getUser(ctx, tx, s.uq.byID, row.UserID)
	if err != nil {
		return store.RotationResult{}, false, err
	}
	return store.RotationResult{Session: row.session(), User: u}, true, nil
}

// isDomainErr reports whether err already carries one of the contract's
// sentinels (and its own context), so it needs no further wrapping.
func isDomainErr(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrSessionRevoked)
}

// rotateMySQL is RotateRefresh on MySQL. The common case (the presented
// jti is current) is rotateSQL alone, autocommitted: its WHERE clause is
// DecideRotation's RotateFresh in SQL, and the row lock the UPDATE takes
// makes a concurrent caller presenting the same jti re-check against the
// committed row, as on Postgres. Then one read returns the session with its
// owner: two round trips and one commit, where the locked transaction takes
// five. Anything else (a replay, a reuse, a dead session) matches nothing
// and goes to rotateLocked, where DecideRotation classifies it.
func (s *Store) rotateMySQL(ctx context.Context, r store.Rotation) (store.RotationResult, error) {
	res, err := exec(ctx, s.wq, s.sq.rotate, rotateArgs(r)...)
	if err != nil {
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: %w", err)
	} else if n == 0 {
		return s.rotateLocked(ctx, r)
	}
	var row rotationRow
	if err := get(ctx, s.wq, &row, s.sq.sessionWithUser, r.SessionID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// Deleted with its owner right after rotating: gone.
			return store.RotationResult{}, fmt.Errorf("sqlstore: session %q: %w", r.SessionID, store.ErrSessionRevoked)
		}
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: read rotated session: %w", err)
	}
	if row.RefreshJTI != r.NewJTI {
		// Only the holder of the new token could have moved it on, and it
		// has not been handed out yet.
		return store.RotationResult{}, fmt.Errorf("sqlstore: rotate refresh: session %q moved on under the fast path", r.SessionID)
	}
	// A revocation committed since the UPDATE (a sign-out, or a reuse of
	// the token just rotated) may already show here. The rotation itself
	// succeeded, as it does on Postgres when the revocation lands a moment
	// later; the revocation's own denylist write covers what is minted.
	return row.result(), nil
}

// rotateLocked is RotateRefresh on MySQL when its fast path matched
// nothing, one transaction: lock the
// session row (SELECT ... FOR UPDATE), read its owner, let
// store.DecideRotation classify the request, and apply the decision under
// the lock. Concurrent rotations of one session queue on the row lock, and
// each decides on the row the previous one committed.
func (s *Store) rotateLocked(ctx context.Context, r store.Rotation) (store.RotationResult, error) {
	var out rotateOutcome
	err := s.inTx(ctx, func(tx runner) error {
		row, err := getSession(ctx, tx, s.sq.byIDForUpdate, r.SessionID)
		if err != nil {
			return err
		}
		sess := row.session()
		u, err := s.getUser(ctx, tx, s.uq.byID, sess.UserID)
		if err != nil {
			return fmt.Errorf("read owner: %w", err)
		}
		switch store.DecideRotation(sess, u.CredentialVersion, r) {
		case store.RotateDead:
			return fmt.Errorf("sqlstore: session %q: %w", r.SessionID, store.ErrSessionRevoked)
		case store.RotateFresh:
			res, err := exec(ctx, tx, s.sq.rotate, rotateArgs(r)...)
			if err == nil {
				err = requireRow(res, "session", r.SessionID)
			}
			if err != nil {
				return err
			}
			out.res = store.RotationResult{Session: rotated(sess, r), User: u}
		case store.RotateReplay:
			out.res = store.RotationResult{Session: sess, User: u, Replayed: true}
		default:
			if _, err := exec(ctx, tx, s.sq.revokeFamily, dbTime(r.Now), r.SessionID); err != nil {
				return fmt.Errorf("revoke reused session: %w", err)
			}
			out.reused = true
		}
		return nil
	})
	return out.result(r, err)
}

// rotated is sess as rotateSQL leaves it after rotating by r, so that the
// locked path needs no read after its UPDATE.
func rotated(sess store.Session, r store.Rotation) store.Session {
	sess.PrevRefreshJTI = sess.RefreshJTI
	sess.RefreshJTI = r.NewJTI
	sess.RefreshIssuedAt = canon(r.NewIssuedAt)
	sess.ExpiresAt = canon(r.NewExpiresAt)
	sess.RotatedAt = canon(r.Now)
	sess.LastRefreshedAt = canon(r.Now)
	if r.UserAgent != "" {
		sess.UserAgent = r.UserAgent
	}
	if r.IP != "" {
		sess.IP = r.IP
	}
	return sess
}
