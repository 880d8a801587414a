package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/go-sql-driver/mysql"
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

// MySQL/MariaDB server error numbers the store maps.
const (
	mysqlDupEntry         = 1062 // ER_DUP_ENTRY
	mysqlNoReferencedRow  = 1216 // ER_NO_REFERENCED_ROW
	mysqlNoReferencedRow2 = 1452 // ER_NO_REFERENCED_ROW_2
	mysqlTooManyConns     = 1040 // ER_CON_COUNT_ERROR
	mysqlServerShutdown   = 1053 // ER_SERVER_SHUTDOWN
	mysqlLockWaitTimeout  = 1205 // ER_LOCK_WAIT_TIMEOUT
	mysqlLockDeadlock     = 1213 // ER_LOCK_DEADLOCK
	mysqlReadOnly         = 1290 // ER_OPTION_PREVENTS_STATEMENT (--read-only: a replica, mid-failover)
	mysqlConnectionKilled = 1927 // ER_CONNECTION_KILLED (MariaDB)
	mysqlQueryInterrupted = 1317 // ER_QUERY_INTERRUPTED
)

// mysqlNumber returns the server error number of err, 0 when it is not a
// MySQL server error.
func mysqlNumber(err error) uint16 {
	if e, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return e.Number
	}
	return 0
}

// isUniqueViolation reports whether err is a unique or primary key
// violation, by driver code rather than message text.
func isUniqueViolation(err error) bool {
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return true
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return mysqlNumber(err) == mysqlDupEntry
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
	n := mysqlNumber(err)
	return n == mysqlNoReferencedRow || n == mysqlNoReferencedRow2
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
	if errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	switch mysqlNumber(err) {
	case mysqlTooManyConns, mysqlServerShutdown, mysqlLockWaitTimeout, mysqlLockDeadlock,
		mysqlReadOnly, mysqlConnectionKilled:
		// A deadlock victim's transaction was rolled back whole: retrying
		// it is what the server asks for.
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
