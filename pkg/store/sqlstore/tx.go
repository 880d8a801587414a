package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// inTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise. On SQLite the transaction is BEGIN IMMEDIATE on
// the single writer connection, so fn must run everything on tx, never on
// the pools, or it would wait for itself.
func (s *Store) inTx(ctx context.Context, fn func(tx runner) error) (err error) {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	var missed []string
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error that made us roll back is the one to report
		}
		if len(missed) > 0 {
			s.wq.warm(ctx, missed)
		}
	}()
	if err = fn(txRunner{tx: tx, cache: s.wq, missed: &missed}); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	return nil
}

// updateReturning runs update, a statement that changes at most one row,
// and scans that row into dest: sql.ErrNoRows when it matched none.
//
// Where the dialect has UPDATE ... RETURNING (Postgres, SQLite), update
// carries it and this is one statement. On MySQL, update has no RETURNING
// and read (with readArgs) reads the row back in the same transaction,
// under the row lock the update took, so it sees what the update left.
func (s *Store) updateReturning(ctx context.Context, r runner, dest any, update string, args []any, read string, readArgs ...any) error {
	if !s.d.mysql {
		return get(ctx, r, dest, update, args...)
	}
	run := func(tx runner) error {
		res, err := exec(ctx, tx, update, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return sql.ErrNoRows
		}
		return get(ctx, tx, dest, read, readArgs...)
	}
	if tx, ok := r.(txRunner); ok {
		return run(tx)
	}
	return s.inTx(ctx, run)
}
