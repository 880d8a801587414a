package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/store"
)

var _ store.RevocationLog = (*Store)(nil)

const (
	revocationCols      = `id, kind, subject, value, cutoff, until, created_at`
	insertRevocationSQL = `INSERT INTO revocations (kind, subject, value, cutoff, until, created_at) VALUES (?, ?, ?, ?, ?, ?)`
)

type revocationRow struct {
	ID        int64  `db:"id"`
	Kind      string `db:"kind"`
	Subject   string `db:"subject"`
	Value     string `db:"value"`
	Cutoff    dbTime `db:"cutoff"`
	Until     dbTime `db:"until"`
	CreatedAt dbTime `db:"created_at"`
}

// RecordRevocations inserts rs in one transaction. Postgres returns each
// id with RETURNING (lib/pq has no LastInsertId); SQLite and MySQL report
// it on the result.
func (s *Store) RecordRevocations(ctx context.Context, rs []store.Revocation) ([]store.Revocation, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	for _, r := range rs {
		if !store.ValidRevocation(r) {
			return nil, fmt.Errorf("sqlstore: record revocations: bad %q revocation: %w", r.Kind, errInvalid)
		}
	}
	q := s.d.rebind(insertRevocationSQL)
	if s.d.postgres {
		q += " RETURNING id"
	}
	out := make([]store.Revocation, len(rs))
	now := s.now()
	err := s.inTx(ctx, func(tx runner) error {
		for i, r := range rs {
			var cutoff dbTime
			if r.Kind == store.RevocationCutoff {
				cutoff = dbTime(r.Cutoff)
			}
			args := []any{r.Kind, r.Subject, r.Value, cutoff, dbTime(r.Until), dbTime(now)}
			if s.d.postgres {
				if err := get(ctx, tx, &r.ID, q, args...); err != nil {
					return err
				}
			} else {
				res, err := exec(ctx, tx, q, args...)
				if err != nil {
					return err
				}
				if r.ID, err = res.LastInsertId(); err != nil {
					return classify(err)
				}
			}
			r.CreatedAt, r.Until, r.Cutoff = canon(now), canon(r.Until), canon(cutoff.Time())
			out[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: record revocations: %w", err)
	}
	return out, nil
}

// LiveRevocations pages the live revocations by id.
func (s *Store) LiveRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]store.Revocation, error) {
	if limit < 1 || limit > store.MaxRevocationPage {
		return nil, fmt.Errorf("sqlstore: live revocations: limit %d outside 1..%d: %w", limit, store.MaxRevocationPage, errInvalid)
	}
	var rows []revocationRow
	q := s.d.rebind(`SELECT ` + revocationCols + ` FROM revocations WHERE id > ? AND until > ? ORDER BY id LIMIT ?`)
	if err := selectAll(ctx, s.rq, &rows, q, after, dbTime(now), limit); err != nil {
		return nil, fmt.Errorf("sqlstore: live revocations: %w", err)
	}
	out := make([]store.Revocation, len(rows))
	for i, r := range rows {
		out[i] = store.Revocation{ID: r.ID, Kind: r.Kind, Subject: r.Subject, Value: r.Value,
			Until: r.Until.Time(), CreatedAt: r.CreatedAt.Time()}
		if r.Kind == store.RevocationCutoff {
			out[i].Cutoff = r.Cutoff.Time()
		}
	}
	return out, nil
}

// RevocationGeneration reads the highest id. Purging always keeps the
// newest row, so this is the highest id ever allocated.
func (s *Store) RevocationGeneration(ctx context.Context) (int64, error) {
	var gen int64
	if err := get(ctx, s.rq, &gen, `SELECT COALESCE(MAX(id), 0) FROM revocations`); err != nil {
		return 0, fmt.Errorf("sqlstore: revocation generation: %w", err)
	}
	return gen, nil
}

// PurgeRevocations deletes expired rows below the newest id, oldest first.
// MySQL cannot name the table it deletes from in a subquery, but has
// DELETE ... ORDER BY ... LIMIT; the others delete the ids a subquery
// chose.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 || limit > store.MaxRevocationPage {
		return 0, fmt.Errorf("sqlstore: purge revocations: limit %d outside 1..%d: %w", limit, store.MaxRevocationPage, errInvalid)
	}
	gen, err := s.RevocationGeneration(ctx)
	if err != nil || gen == 0 {
		return 0, err
	}
	q := `DELETE FROM revocations WHERE id IN (SELECT id FROM revocations WHERE until <= ? AND id < ? ORDER BY id LIMIT ?)`
	if s.d.mysql {
		q = `DELETE FROM revocations WHERE until <= ? AND id < ? ORDER BY id LIMIT ?`
	}
	var n int64
	err = s.inTx(ctx, func(tx runner) error {
		res, err := exec(ctx, tx, s.d.rebind(q), dbTime(before), gen, limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return classify(err)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge revocations: %w", err)
	}
	return int(n), nil
}
