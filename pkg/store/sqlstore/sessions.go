package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authd/authd/pkg/store"
)

// sessionCols are the columns sessionRow scans, in table order.
const sessionCols = `id, user_id, client_id, user_agent, ip, refresh_jti, refresh_issued_at, expires_at,
	prev_refresh_jti, rotated_at, created_at, last_refreshed_at, revoked_at, credential_version, amr, auth_time`

// sessionInsertCols are the columns CreateSession writes.
const sessionInsertCols = `id, user_id, client_id, user_agent, ip, refresh_jti,
	refresh_issued_at, expires_at, created_at, last_refreshed_at, credential_version, amr, auth_time`

// lastLoginSet moves users.last_login_at to its two (equal) arguments unless
// it is already later: logins that commit out of order leave the newest.
const lastLoginSet = `last_login_at = CASE WHEN last_login_at >= ? THEN last_login_at ELSE ? END`

type sessionQueries struct {
	// loginAt sets last_login_at after insert (SQLite; on Postgres insert
	// does both).
	loginAt                                                             string
	insert, byID, byIDForUpdate, list, revoke, revokeUser, revokeFamily string
	rotate, rotateWithUser, sessionWithUser                             string
	bumpUser, userVersion, carry                                        string
	stepUp                                                              string
	// MySQL only (no RETURNING): liveToRevoke locks and lists what
	// revokeUser then revokes; loginGuard is the first step of a login.
	liveToRevoke, loginGuard string
}

func newSessionQueries(d dialect) sessionQueries {
	byID := `SELECT ` + sessionCols + ` FROM sessions WHERE id = ?`
	q := sessionQueries{
		// The insert happens only while the user's credential version is
		// the one the caller verified: one statement, so nothing can change
		// the version in between (SQLite runs it in the write transaction
		// that also sets last_login_at; see loginAt).
		insert: d.rebind(`INSERT INTO sessions (` + sessionInsertCols + `)
			SELECT ?, u.id, ?, ?, ?, ?, ?, ?, ?, ?, u.credential_version, ?, ? FROM users u
			WHERE u.id = ? AND u.credential_version = ?`),
		loginAt:       d.rebind(`UPDATE users SET ` + lastLoginSet + ` WHERE id = ?`),
		byID:          d.rebind(byID),
		byIDForUpdate: d.rebind(byID + d.forUpdate),
		list: d.rebind(`SELECT ` + sessionCols + ` FROM sessions
			WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
				AND credential_version = (SELECT u.credential_version FROM users u WHERE u.id = sessions.user_id)
			ORDER BY created_at DESC, id DESC`),
		// COALESCE keeps the first revocation time: revoking twice is a no-op.
		revoke: d.rebind(`UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ?`),
		revokeUser: d.rebind(`UPDATE sessions SET revoked_at = ?
			WHERE user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ?` + d.returning("id")),
		liveToRevoke: d.rebind(`SELECT id FROM sessions
			WHERE user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ?` + d.forUpdate),
		revokeFamily: d.rebind(`UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		bumpUser: d.rebind(`UPDATE users SET credential_version = credential_version + 1 WHERE id = ?` +
			d.returning("credential_version")),
		userVersion: d.rebind(`SELECT credential_version FROM users WHERE id = ?`),
		// Carries the caller's session from the old version to the new.
		carry: d.rebind(`UPDATE sessions SET credential_version = ?
			WHERE id = ? AND user_id = ? AND credential_version = ?`),
		rotate: d.rebind(rotateSQL),
		// A step-up applies to a session that could still rotate.
		stepUp: d.rebind(`UPDATE sessions SET amr = ?, auth_time = ?
			WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?
				AND credential_version = (SELECT u.credential_version FROM users u WHERE u.id = sessions.user_id)` +
			d.returning(sessionCols)),
	}
	if d.mysql {
		// The Postgres CTE's order as two statements of one transaction:
		// the guarded UPDATE takes the user row's exclusive lock first,
		// then the session is inserted from that row. (INSERT ... SELECT
		// first would take a shared lock, and two logins of one user would
		// deadlock upgrading theirs.)
		q.loginGuard = d.rebind(`UPDATE users SET ` + lastLoginSet + ` WHERE id = ? AND credential_version = ?`)
		q.rotate = d.rebind(rotateSQLNoReturning)
		q.sessionWithUser = d.rebind(sessionWithUserSQL(d))
	}
	if d.postgres {
		q.rotateWithUser = d.rebind(rotateWithUserSQL(d))
		// The same guard, and last_login_at, in one statement and one
		// round trip: the UPDATE matches only while the version is the one
		// verified, and the session is inserted only from the row it
		// returns. Its row lock also makes a concurrent change of the user
		// (a reset, a disable, a sign-out everywhere) wait for this insert
		// to commit, so that it sees and ends the session, or this one wait
		// for the change and then find the new version and insert nothing.
		// (A FOR SHARE read followed by the UPDATE would deadlock two
		// concurrent logins of one user, each waiting on the other's share
		// lock.) The price: logins of one user queue on its row, one
		// commit at a time (docs/benchmarks.md); bcrypt bounds them first.
		q.insert = d.rebind(`WITH u AS (
			UPDATE users SET ` + lastLoginSet + ` WHERE id = ? AND credential_version = ?
			RETURNING id, credential_version)
			INSERT INTO sessions (` + sessionInsertCols + `)
			SELECT ?, u.id, ?, ?, ?, ?, ?, ?, ?, ?, u.credential_version, ?, ? FROM u`)
	}
	return q
}

type sessionRow struct {
	ID              string         `db:"id"`
	UserID          string         `db:"user_id"`
	ClientID        string         `db:"client_id"`
	UserAgent       string         `db:"user_agent"`
	IP              string         `db:"ip"`
	RefreshJTI      string         `db:"refresh_jti"`
	RefreshIssuedAt dbTime         `db:"refresh_issued_at"`
	ExpiresAt       dbTime         `db:"expires_at"`
	PrevRefreshJTI  sql.NullString `db:"prev_refresh_jti"`
	RotatedAt       dbTime         `db:"rotated_at"`
	CreatedAt       dbTime         `db:"created_at"`
	LastRefreshedAt dbTime         `db:"last_refreshed_at"`
	RevokedAt       dbTime         `db:"revoked_at"`
	CredVersion     int64          `db:"credential_version"`
	AMR             string         `db:"amr"`
	AuthTime        dbTime         `db:"auth_time"`
}

func (r sessionRow) session() store.Session {
	return store.Session{
		ID:              r.ID,
		UserID:          r.UserID,
		ClientID:        r.ClientID,
		UserAgent:       r.UserAgent,
		IP:              r.IP,
		RefreshJTI:      r.RefreshJTI,
		RefreshIssuedAt: r.RefreshIssuedAt.Time(),
		ExpiresAt:       r.ExpiresAt.Time(),
		PrevRefreshJTI:  r.PrevRefreshJTI.String,
		RotatedAt:       r.RotatedAt.Time(),
		CreatedAt:       r.CreatedAt.Time(),
		LastRefreshedAt: r.LastRefreshedAt.Time(),
		RevokedAt:       r.RevokedAt.Time(),
		AMR:             splitList(r.AMR),
		AuthTime:        r.AuthTime.Time(),

		CredentialVersion: r.CredVersion,
	}
}

// CreateSession starts a session, provided the user's credential version
// is still ns.CredentialVersion (else store.ErrCredentialsChanged). Its
// CreatedAt and LastRefreshedAt, and the user's LastLoginAt (unless it is
// later already), are s.RefreshIssuedAt: the login time on the caller's
// clock. A taken ID is store.ErrAlreadyExists; an unknown user is
// store.ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, ns store.NewSession) (store.Session, error) {
	if ns.ID == "" || ns.UserID == "" || ns.RefreshJTI == "" || ns.RefreshIssuedAt.IsZero() || ns.ExpiresAt.IsZero() {
		return store.Session{}, fmt.Errorf("sqlstore: create session: ID, UserID, RefreshJTI, RefreshIssuedAt and ExpiresAt are required: %w", errInvalid)
	}
	sess := store.Session{
		ID:              ns.ID,
		UserID:          ns.UserID,
		ClientID:        ns.ClientID,
		UserAgent:       ns.UserAgent,
		IP:              ns.IP,
		RefreshJTI:      ns.RefreshJTI,
		RefreshIssuedAt: canon(ns.RefreshIssuedAt),
		ExpiresAt:       canon(ns.ExpiresAt),
		CreatedAt:       canon(ns.RefreshIssuedAt),
		LastRefreshedAt: canon(ns.RefreshIssuedAt),
		AMR:             slices.Clone(ns.AMR),
		AuthTime:        canon(ns.AuthTime),

		CredentialVersion: ns.CredentialVersion,
	}
	if sess.AMR == nil {
		sess.AMR = []string{}
	}
	if sess.AuthTime.IsZero() {
		sess.AuthTime = sess.CreatedAt
	}
	amr, err := joinList("amr", sess.AMR)
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlstore: create session: %w", err)
	}
	login := dbTime(sess.CreatedAt)
	args := []any{sess.ID, sess.ClientID, sess.UserAgent, sess.IP, sess.RefreshJTI, dbTime(sess.RefreshIssuedAt),
		dbTime(sess.ExpiresAt), dbTime(sess.CreatedAt), dbTime(sess.LastRefreshedAt), amr, dbTime(sess.AuthTime)}
	if s.d.postgres {
		res, err := exec(ctx, s.wq, s.sq.insert, append([]any{login, login, sess.UserID, sess.CredentialVersion}, args...)...)
		if err != nil {
			return store.Session{}, mapWriteErr("create session", err)
		}
		if err := s.requireVersion(ctx, s.wq, res, sess.UserID); err != nil {
			return store.Session{}, err
		}
		return sess, nil
	}
	if s.d.mysql {
		err = s.inTx(ctx, func(tx runner) error {
			res, err := exec(ctx, tx, s.sq.loginGuard, login, login, sess.UserID, sess.CredentialVersion)
			if err != nil {
				return err
			}
			if err := s.requireVersion(ctx, tx, res, sess.UserID); err != nil {
				return err
			}
			_, err = exec(ctx, tx, s.sq.insert, append(args, sess.UserID, sess.CredentialVersion)...)
			return err
		})
	} else {
		err = s.inTx(ctx, func(tx runner) error {
			res, err := exec(ctx, tx, s.sq.insert, append(args, sess.UserID, sess.CredentialVersion)...)
			if err != nil {
				return err
			}
			if err := s.requireVersion(ctx, tx, res, sess.UserID); err != nil {
				return err
			}
			_, err = exec(ctx, tx, s.sq.loginAt, login, login, sess.UserID)
			return err
		})
	}
	switch {
	case err != nil && isVersionErr(err):
		return store.Session{}, err
	case err != nil:
		return store.Session{}, mapWriteErr("create session", err)
	}
	return sess, nil
}

// getSession reads one session row with query (byID or byIDForUpdate).
func getSession(ctx context.Context, r runner, query, id string) (sessionRow, error) {
	var row sessionRow
	if err := get(ctx, r, &row, query, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return row, fmt.Errorf("sqlstore: session %q: %w", id, store.ErrNotFound)
		}
		return row, fmt.Errorf("sqlstore: get session: %w", err)
	}
	return row, nil
}

// ListSessions returns a user's sessions that are neither revoked nor
// expired at now, nor of an old credential version, newest first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	var rows []sessionRow
	if err := selectAll(ctx, s.rq, &rows, s.sq.list, userID, dbTime(now)); err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	out := make([]store.Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// RevokeSession revokes one session of userID at `at`. Revoking it again
// keeps the first time and is not an error; a session of another user, or
// none, is store.ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: revoke session: zero time: %w", errInvalid)
	}
	res, err := exec(ctx, s.wq, s.sq.revoke, dbTime(at), sessionID, userID)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	return requireRow(res, "session", sessionID)
}

// RevokeUserSessions revokes every session of userID that is live at `at`
// (unrevoked, unexpired), except exceptSessionID, and returns the revoked
// ids, sorted.
func (s *Store) RevokeUserSessions(ctx context.Context, userID, exceptSessionID string, at time.Time) ([]string, error) {
	if at.IsZero() {
		return nil, fmt.Errorf("sqlstore: revoke user sessions: zero time: %w", errInvalid)
	}
	ids := []string{}
	err := s.inTx(ctx, func(tx runner) error {
		// Bumping first takes the user row's lock (Postgres): a session
		// insert verified at the old version waits, then finds it gone.
		var version int64
		switch err := s.updateReturning(ctx, tx, &version, s.sq.bumpUser, []any{userID}, s.sq.userVersion, userID); {
		case errors.Is(err, sql.ErrNoRows):
			// No such user: nothing to bump, and no sessions either.
		case err != nil:
			return err
		case exceptSessionID != "":
			if _, err := exec(ctx, tx, s.sq.carry, version, exceptSessionID, userID, version-1); err != nil {
				return err
			}
		}
		if !s.d.mysql {
			return selectAll(ctx, tx, &ids, s.sq.revokeUser, dbTime(at), userID, exceptSessionID, dbTime(at))
		}
		if err := selectAll(ctx, tx, &ids, s.sq.liveToRevoke, userID, exceptSessionID, dbTime(at)); err != nil {
			return err
		}
		_, err := exec(ctx, tx, s.sq.revokeUser, dbTime(at), userID, exceptSessionID, dbTime(at))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: revoke user sessions: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// StepUpSession records a new authentication of a live session (a second
// factor given after login): its AMR and AuthTime become amr and at. A
// session that is not the user's, or could not rotate any more (revoked,
// expired at at, of an old credential version), is store.ErrNotFound.
func (s *Store) StepUpSession(ctx context.Context, userID, sessionID string, amr []string, at time.Time) (store.Session, error) {
	if at.IsZero() || len(amr) == 0 {
		return store.Session{}, fmt.Errorf("sqlstore: step up session: amr and time are required: %w", errInvalid)
	}
	list, err := joinList("amr", amr)
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlstore: step up session: %w", err)
	}
	var row sessionRow
	err = s.updateReturning(ctx, s.wq, &row, s.sq.stepUp, []any{list, dbTime(at), sessionID, userID, dbTime(at)},
		s.sq.byID, sessionID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, fmt.Errorf("sqlstore: live session %q of %q: %w", sessionID, userID, store.ErrNotFound)
	case err != nil:
		return store.Session{}, fmt.Errorf("sqlstore: step up session: %w", err)
	}
	return row.session(), nil
}
