package sqlstore

import (
	"fmt"

	"github.com/jmoiron/sqlx"
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
	// forShare locks the rows a SELECT reads against concurrent updates
	// until the transaction ends (SQLite: see forUpdate).
	forShare string
	// rolesFmt is the expression for the sorted roles of the user whose id
	// is the %s column, scanned by roleList.
	rolesFmt string
}

func postgresDialect() dialect {
	return dialect{
		name:      "postgres",
		postgres:  true,
		goose:     goose.DialectPostgres,
		bind:      sqlx.DOLLAR,
		forUpdate: " FOR UPDATE",
		forShare:  " FOR SHARE OF u",
		rolesFmt:  "COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = %s), '{}')",
	}
}

func sqliteDialect() dialect {
	return dialect{
		name:     "sqlite",
		goose:    goose.DialectSQLite3,
		bind:     sqlx.QUESTION,
		rolesFmt: "(SELECT json_group_array(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = %s)",
	}
}

// rebind turns '?' placeholders into the dialect's.
func (d dialect) rebind(q string) string { return sqlx.Rebind(d.bind, q) }

// roles returns the roles expression for the user id column col.
func (d dialect) roles(col string) string { return fmt.Sprintf(d.rolesFmt, col) }
