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

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/authd/authd/pkg/store"
)

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
