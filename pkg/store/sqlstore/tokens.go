package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

// tokenCols are the columns tokenRow scans.
const tokenCols = `hash, purpose, user_id, email, created_at, expires_at, used_at`

type tokenQueries struct {
	deleteUserPurpose, insert, consume string
	// byHash reads a consumed token back (MySQL; see updateReturning).
	byHash string
}

func newTokenQueries(d dialect) tokenQueries {
	return tokenQueries{
		deleteUserPurpose: d.rebind(`DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ?`),
		insert: d.rebind(`INSERT INTO one_time_tokens (` + tokenCols + `)
			VALUES (?, ?, ?, ?, ?, ?, NULL)`),
		// The WHERE clause is the whole validity test, so the row lock (or
		// SQLite's single writer) lets exactly one of concurrent callers
		// match: the others re-check a row whose used_at is set.
		consume: d.rebind(`UPDATE one_time_tokens SET used_at = ?
			WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?` + d.returning(tokenCols)),
		byHash: d.rebind(`SELECT ` + tokenCols + ` FROM one_time_tokens WHERE hash = ?`),
	}
}

type tokenRow struct {
	Hash      []byte `db:"hash"`
	Purpose   string `db:"purpose"`
	UserID    string `db:"user_id"`
	Email     string `db:"email"`
	CreatedAt dbTime `db:"created_at"`
	ExpiresAt dbTime `db:"expires_at"`
	UsedAt    dbTime `db:"used_at"`
}

func (r tokenRow) token() store.OneTimeToken {
	return store.OneTimeToken{
		Hash: r.Hash, Purpose: r.Purpose, UserID: r.UserID, Email: r.Email,
		CreatedAt: r.CreatedAt.Time(), ExpiresAt: r.ExpiresAt.Time(), UsedAt: r.UsedAt.Time(),
	}
}

// CreateOneTimeToken stores t after deleting the user's earlier tokens of
// the same purpose, in one transaction. A zero CreatedAt is set from the
// store's clock. An unknown user is store.ErrNotFound; a taken hash is
// store.ErrAlreadyExists.
func (s *Store) CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error {
	if len(t.Hash) == 0 || t.Purpose == "" || t.UserID == "" || t.Email == "" || t.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlstore: create one-time token: Hash, Purpose, UserID, Email and ExpiresAt are required: %w", errInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	err := s.inTx(ctx, func(tx runner) error {
		if _, err := exec(ctx, tx, s.tq.deleteUserPurpose, t.UserID, t.Purpose); err != nil {
			return err
		}
		_, err := exec(ctx, tx, s.tq.insert, t.Hash, t.Purpose, t.UserID, t.Email,
			dbTime(t.CreatedAt), dbTime(t.ExpiresAt))
		return err
	})
	if err != nil {
		return mapWriteErr("create one-time token", err)
	}
	return nil
}

// ConsumeOneTimeToken marks the unused, unexpired token with this hash and
// purpose used at now and returns it; anything else is store.ErrNotFound.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (store.OneTimeToken, error) {
	if len(hash) == 0 || purpose == "" || now.IsZero() {
		return store.OneTimeToken{}, fmt.Errorf("sqlstore: consume one-time token: hash, purpose and now are required: %w", errInvalid)
	}
	var row tokenRow
	err := s.updateReturning(ctx, s.wq, &row, s.tq.consume, []any{dbTime(now), hash, purpose, dbTime(now)}, s.tq.byHash, hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// The token's owner is not named: the caller only learns "no".
		return store.OneTimeToken{}, fmt.Errorf("sqlstore: one-time token (%s): %w", purpose, store.ErrNotFound)
	case err != nil:
		return store.OneTimeToken{}, fmt.Errorf("sqlstore: consume one-time token: %w", err)
	}
	return row.token(), nil
}
