package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// dbTime is a time.Time as the schema stores it: Unix microseconds in a
// 64-bit integer column, NULL for the zero time. Reads come back in UTC.
type dbTime time.Time

// Value implements driver.Valuer.
func (t dbTime) Value() (driver.Value, error) {
	if time.Time(t).IsZero() {
		return nil, nil
	}
	return time.Time(t).UnixMicro(), nil
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = dbTime{}
	case int64:
		*t = dbTime(time.UnixMicro(v).UTC())
	case []byte:
		// MySQL's text protocol (a statement run unprepared) sends
		// integers as decimal text.
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("sqlstore: scan time: %w", err)
		}
		*t = dbTime(time.UnixMicro(n).UTC())
	default:
		return fmt.Errorf("sqlstore: scan time from %T", src)
	}
	return nil
}

// Time returns t as a time.Time.
func (t dbTime) Time() time.Time { return time.Time(t) }

// canon returns t as a read will: truncated to the microsecond, in UTC, so
// that what a write returns equals what a later read returns.
func canon(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// roleList scans the roles expression of either dialect: a Postgres text
// array ("{a,b}") or a SQLite JSON array (["a","b"]). It is never nil after
// a scan.
type roleList []string

// Scan implements sql.Scanner.
func (l *roleList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = roleList{}
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("sqlstore: scan roles from %T", src)
	}
	var roles []string
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &roles); err != nil {
			return fmt.Errorf("sqlstore: scan roles: %w", err)
		}
	} else {
		var a pq.StringArray
		if err := a.Scan(b); err != nil {
			return fmt.Errorf("sqlstore: scan roles: %w", err)
		}
		roles = a
	}
	if roles == nil {
		roles = []string{}
	}
	slices.Sort(roles) // MySQL's JSON_ARRAYAGG has no ORDER BY
	*l = roles
	return nil
}

// normalizeRoles returns roles sorted, without duplicates or empty names,
// never nil.
func normalizeRoles(roles []string) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
