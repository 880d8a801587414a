package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/authd/authd/pkg/store"
)

func myErr(n uint16) error { return fmt.Errorf("query: %w", &mysql.MySQLError{Number: n}) }

func TestClassify(t *testing.T) {
	pgErr := func(code pqerror.Code) error { return fmt.Errorf("query: %w", &pq.Error{Code: code}) }
	cases := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"bad conn", driver.ErrBadConn, true},
		{"conn done", sql.ErrConnDone, true},
		{"eof", fmt.Errorf("read: %w", io.EOF), true},
		{"unexpected eof", io.ErrUnexpectedEOF, true},
		{"driver deadline", context.DeadlineExceeded, true},
		{"08006 connection failure", pgErr("08006"), true},
		{"57P01 admin shutdown", pgErr(pqerror.AdminShutdown), true},
		{"57P02 crash shutdown", pgErr(pqerror.CrashShutdown), true},
		{"57P03 cannot connect now", pgErr(pqerror.CannotConnectNow), true},
		{"53300 too many connections", pgErr("53300"), true},
		{"42601 syntax error", pgErr("42601"), false},
		{"23505 unique violation", pgErr(pqerror.UniqueViolation), false},
		{"57014 query canceled", pgErr("57014"), false},
		{"mysql invalid connection", mysql.ErrInvalidConn, true},
		{"mysql 1040 too many connections", myErr(1040), true},
		{"mysql 1053 server shutdown", myErr(1053), true},
		{"mysql 1205 lock wait timeout", myErr(1205), true},
		{"mysql 1213 deadlock victim", myErr(1213), true},
		{"mysql 1290 read-only server", myErr(1290), true},
		{"mysql 1927 connection killed", myErr(1927), true},
		{"mysql 1064 syntax error", myErr(1064), false},
		{"mysql 1062 duplicate entry", myErr(1062), false},
		{"mysql 1317 query interrupted", myErr(1317), false},
		{"no rows", sql.ErrNoRows, false},
		{"cancelled by the client", context.Canceled, false},
		{"plain error", errors.New("boom"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.err)
			if errors.Is(got, store.ErrUnavailable) != c.unavailable {
				t.Fatalf("classify(%v) = %v; unavailable = %v, want %v", c.err, got, !c.unavailable, c.unavailable)
			}
			if !errors.Is(got, c.err) {
				t.Fatalf("classify(%v) = %v lost the cause", c.err, got)
			}
		})
	}
	if classify(nil) != nil {
		t.Fatal("classify(nil) != nil")
	}
}

// Constraint violations map to the contract's sentinels by driver code on
// every dialect, the driver error kept for logs.
func TestMapWriteErr(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"postgres unique", &pq.Error{Code: pqerror.UniqueViolation}, store.ErrAlreadyExists},
		{"postgres foreign key", &pq.Error{Code: pqerror.ForeignKeyViolation}, store.ErrNotFound},
		{"mysql 1062 duplicate entry", myErr(1062), store.ErrAlreadyExists},
		{"mysql 1452 no referenced row", myErr(1452), store.ErrNotFound},
		{"mysql 1216 no referenced row", myErr(1216), store.ErrNotFound},
		{"mysql 1064 other", myErr(1064), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mapWriteErr("op", c.err)
			if !errors.Is(got, c.err) {
				t.Fatalf("%v lost the cause", got)
			}
			for _, s := range []error{store.ErrAlreadyExists, store.ErrNotFound} {
				if errors.Is(got, s) != (s == c.want) {
					t.Fatalf("mapWriteErr = %v; errors.Is(%v) = %v", got, s, !(s == c.want))
				}
			}
		})
	}
}
