package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

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

// classify wraps err with store.ErrUnavailable when it says the database is
// out of reach rather than that the call was wrong, so that callers can
// answer "retry later" instead of reporting a bug. Everything else (no
// rows, constraint violations, syntax errors) passes unchanged.
func classify(err error) error {
	if err == nil || !isUnavailable(err) || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// isUnavailable reports whether err is a connection-level failure, by type
// and code, never by message text.
func isUnavailable(err error) bool {
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		// The driver gave up waiting for the server (a connect or
		// statement deadline); a cancelled request is not the store's
		// fault and stays as it is.
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if e := pq.As(err); e != nil {
		switch e.Code {
		case pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow:
			return true
		}
		switch e.Code.Class() {
		case pqerror.ClassConnectionException, pqerror.ClassInsufficientResources:
			return true
		}
		return false
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		// The primary code, whatever the extended one: BUSY and LOCKED
		// reach us only once busy_timeout has run out.
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}
