package sqlstore

import (
	"context"
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
