package sqlstore

import (
	"errors"
	"fmt"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authd/authd/pkg/store"
)

// errInvalid marks a call the store refuses before touching the database
// (a required field is empty). It is a programming error of the caller, so
// the contract has no sentinel for it.
var errInvalid = errors.New("invalid argument")

// isUniqueViolation reports whether err is a unique or primary key
// violation, by driver code rather than message text.
func isUniqueViolation(err error) bool {
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return true
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign key violation: the
// referenced row (a user) does not exist.
func isForeignKeyViolation(err error) bool {
	if pq.As(err, pqerror.ForeignKeyViolation) != nil {
		return true
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// mapWriteErr turns constraint violations into the contract's sentinels,
// keeping the driver error in the chain for logs.
func mapWriteErr(op string, err error) error {
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, store.ErrAlreadyExists, err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, store.ErrNotFound, err)
	default:
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
}
