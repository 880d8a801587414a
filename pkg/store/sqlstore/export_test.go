package sqlstore

import (
	"context"

	"github.com/authd/authd/pkg/store"
)

// Session returns a session by id, revoked or not, or store.ErrNotFound:
// the conformance suite (storetest.Store) reads what a call left behind
// with it; the service never reads a session by id alone.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	row, err := getSession(ctx, s.rq, s.sq.byID, id)
	if err != nil {
		return store.Session{}, err
	}
	return row.session(), nil
}

// MySQLConfig is mysqlConfig, for the DSN tests.
var MySQLConfig = mysqlConfig
