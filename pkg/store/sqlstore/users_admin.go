package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/authd/authd/pkg/store"
)

// maxUserLimit bounds one ListUsers page.
const maxUserLimit = 1000

type adminQueries struct {
	// pageRoles reads the roles of a page of users in one statement.
	pageRoles string
	// The steps of DeleteUser, in order.
	lockUser, deleteTokens, deleteSessions, deleteRoles, eraseAudit, deleteUser string
}

func newAdminQueries(d dialect) adminQueries {
	return adminQueries{
		pageRoles: d.rebind(`SELECT user_id, role FROM user_roles WHERE ` + d.inList("user_id") +
			` ORDER BY user_id, role`),
		// The user row is locked first, so that a login that has not yet
		// committed its session finishes before the deletes run (and its
		// session goes with the rest), and a later one finds no user.
		lockUser:       d.rebind(`SELECT id FROM users WHERE id = ?` + d.forUpdate),
		deleteTokens:   d.rebind(`DELETE FROM one_time_tokens WHERE user_id = ?`),
		deleteSessions: d.rebind(`DELETE FROM sessions WHERE user_id = ?`),
		deleteRoles:    d.rebind(`DELETE FROM user_roles WHERE user_id = ?`),
		// The one UPDATE the audit trigger allows (migration 00006). Rows
		// already erased are left alone.
		eraseAudit: d.rebind(`UPDATE audit_events SET ip = '', user_agent = ''
			WHERE user_id = ? AND (ip <> '' OR user_agent <> '')`),
		deleteUser: d.rebind(`DELETE FROM users WHERE id = ?`),
	}
}

// listUsersSQL returns ListUsers' query for the filters that are set, and
// its arguments. The text depends only on which filters are set, so few
// statements are prepared however the API is called.
func (s *Store) listUsersSQL(q store.UserQuery) (string, []any) {
	var where []string
	var args []any
	if !q.After.IsZero() {
		// A row-value comparison: Postgres and SQLite both walk
		// users_created_at_id_idx from the cursor on.
		where = append(where, "(u.created_at, u.id) > (?, ?)")
		args = append(args, q.After.CreatedAt.UnixMicro(), q.After.ID)
	}
	if q.EmailPrefix != "" {
		where = append(where, `u.email LIKE ? ESCAPE '!'`)
		args = append(args, likePrefix(strings.ToLower(q.EmailPrefix)))
	}
	if q.Role != "" {
		where = append(where, "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?)")
		args = append(args, q.Role)
	}
	if q.Disabled != nil {
		where = append(where, "u.disabled = ?")
		args = append(args, *q.Disabled)
	}
	query := `SELECT ` + userCols + ` FROM users u`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY u.created_at, u.id LIMIT ?`
	return s.d.rebind(query), append(args, q.Limit)
}

// likeEscaper escapes LIKE's wildcards and its escape character. The
// escape is '!', not a backslash, because a backslash in a MySQL string literal
// is itself an escape (unless NO_BACKSLASH_ESCAPES): one escape character
// that every dialect reads the same way.
var likeEscaper = strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`)

// likePrefix is a LIKE pattern (with ESCAPE '!') matching the strings
// that start with prefix, taken literally: its %, _ and \ are escaped.
func likePrefix(prefix string) string { return likeEscaper.Replace(prefix) + "%" }

// ListUsers returns up to q.Limit (1 to 1000; anything else is refused)
// users after q.After in (CreatedAt, ID) order that match q's filters. The
// page is one query and its roles a second one, whatever its length.
// EmailPrefix is compared with the stored (lower-case) emails after
// lower-casing; its % and _ match themselves.
func (s *Store) ListUsers(ctx context.Context, q store.UserQuery) ([]store.User, error) {
	if q.Limit < 1 || q.Limit > maxUserLimit {
		return nil, fmt.Errorf("sqlstore: list users: limit %d outside 1..%d: %w", q.Limit, maxUserLimit, errInvalid)
	}
	query, args := s.listUsersSQL(q)
	var rows []userRow
	if err := selectAll(ctx, s.rq, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	out := make([]store.User, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var grants []struct {
		UserID string `db:"user_id"`
		Role   string `db:"role"`
	}
	if err := selectAll(ctx, s.rq, &grants, s.aq.pageRoles, s.d.listArg(ids)); err != nil {
		return nil, fmt.Errorf("sqlstore: list users: roles: %w", err)
	}
	roles := make(map[string][]string, len(rows))
	for _, g := range grants {
		roles[g.UserID] = append(roles[g.UserID], g.Role)
	}
	for i, r := range rows {
		r.Roles = roles[r.ID]
		out[i] = r.user() // sorts, and makes a user without roles []
	}
	return out, nil
}

// DeleteUser deletes a user, their one-time tokens, sessions and roles,
// and empties the IP and user agent of their audit events, in one
// transaction. An unknown user is store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx runner) error {
		var id string
		if err := get(ctx, tx, &id, s.aq.lockUser, userID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlstore: user %q: %w", userID, store.ErrNotFound)
			}
			return err
		}
		// The foreign keys cascade too; deleting explicitly keeps the
		// contract whatever a deployment's schema says about cascades.
		for _, q := range []string{s.aq.deleteTokens, s.aq.deleteSessions, s.aq.deleteRoles, s.aq.eraseAudit} {
			if _, err := exec(ctx, tx, q, userID); err != nil {
				return err
			}
		}
		res, err := exec(ctx, tx, s.aq.deleteUser, userID)
		if err != nil {
			return err
		}
		return requireRow(res, "user", userID)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sqlstore: delete user: %w", err)
	}
	return err
}
