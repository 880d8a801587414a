package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
)

// dialect holds the little that differs between Postgres and SQLite. Queries
// are written once with '?' and rebound at Open; the fields below are the
// only fragments that are not shared.
type dialect struct {
	name     string // migrations/<name>
	postgres bool
	goose    goose.Dialect
	bind     int // sqlx bind type
	// forUpdate locks the rows a SELECT reads until the transaction ends.
	// SQLite needs none: its writer transactions are already exclusive.
	forUpdate string
	// rolesFmt is the expression for the sorted roles of the user whose id
	// is the %s column, scanned by roleList.
	rolesFmt string
	// inListFmt is a condition true when the %s column is one of the
	// strings in a single parameter encoded by listArg: one statement for
	// a list of any length.
	inListFmt string
	// listArg encodes a list of strings for inListFmt's parameter.
	listArg func([]string) any
}

func postgresDialect() dialect {
	return dialect{
		name:      "postgres",
		postgres:  true,
		goose:     goose.DialectPostgres,
		bind:      sqlx.DOLLAR,
		forUpdate: " FOR UPDATE",
		rolesFmt:  "COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = %s), '{}')",
		inListFmt: "%s = ANY(?)",
		listArg:   func(l []string) any { return pq.StringArray(l) },
	}
}

func sqliteDialect() dialect {
	return dialect{
		name:      "sqlite",
		goose:     goose.DialectSQLite3,
		bind:      sqlx.QUESTION,
		rolesFmt:  "(SELECT json_group_array(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = %s)",
		inListFmt: "%s IN (SELECT value FROM json_each(?))",
		listArg:   jsonList,
	}
}

// rebind turns '?' placeholders into the dialect's.
func (d dialect) rebind(q string) string { return sqlx.Rebind(d.bind, q) }

// inList returns the inListFmt condition on column col.
func (d dialect) inList(col string) string { return fmt.Sprintf(d.inListFmt, col) }

// jsonList encodes l as a JSON array (SQLite's listArg).
func jsonList(l []string) any {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		panic(err) // a []string always encodes
	}
	return string(b)
}

// roles returns the roles expression for the user id column col.
func (d dialect) roles(col string) string { return fmt.Sprintf(d.rolesFmt, col) }
