package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
)

// dialect holds the little that differs between Postgres, SQLite and
// MySQL. Queries are written once with '?' and rebound at Open; the fields
// below are the only fragments that are not shared, and the few statements
// MySQL needs in another shape (no RETURNING, no ON CONFLICT) are chosen
// where they are built, on d.mysql.
type dialect struct {
	name     string // migrations/<name>
	postgres bool
	// mysql: MySQL 8.0+ or MariaDB 10.6+. Neither has UPDATE ... RETURNING
	// (MariaDB's DELETE/INSERT ... RETURNING is not in MySQL), so a write
	// that must return its row runs in a transaction that updates, then
	// reads the row back under the lock the update took.
	mysql bool
	goose goose.Dialect
	bind  int // sqlx bind type
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

// mysqlDialect is MySQL's and MariaDB's. Roles are aggregated into a JSON
// array by GROUP_CONCAT (JSON_ARRAYAGG cannot sort on MySQL); JSON_TABLE
// (MySQL 8.0.4+, MariaDB 10.6+) unpacks a list parameter. Every table's
// collation is utf8mb4_bin, so comparisons are exact as on the other
// dialects; the JSON_TABLE column says so too, or the comparison would mix
// collations.
func mysqlDialect() dialect {
	return dialect{
		name:      "mysql",
		mysql:     true,
		goose:     goose.DialectMySQL,
		bind:      sqlx.QUESTION,
		forUpdate: " FOR UPDATE",
		// JSON_ARRAYAGG, not a CONCAT of JSON_QUOTEd GROUP_CONCAT: on
		// MariaDB JSON_QUOTE is most of the CPU of the statements that read
		// a user, and those run on every login and refresh
		// (docs/benchmarks.md). MySQL takes no ORDER BY in it, so roleList
		// sorts.
		rolesFmt:  "(SELECT JSON_ARRAYAGG(r.role) FROM user_roles r WHERE r.user_id = %s)",
		inListFmt: "%s IN (SELECT j.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) AS j)",
		listArg:   jsonList,
	}
}

// networked reports whether the database is a server shared by replicas
// (Postgres, MySQL) rather than a file of this process (SQLite).
func (d dialect) networked() bool { return d.postgres || d.mysql }

// rebind turns '?' placeholders into the dialect's.
func (d dialect) rebind(q string) string { return sqlx.Rebind(d.bind, q) }

// returning is " RETURNING cols" where UPDATE ... RETURNING exists, and
// nothing on MySQL, whose callers read the row back (updateReturning).
func (d dialect) returning(cols string) string {
	if d.mysql {
		return ""
	}
	return " RETURNING " + cols
}

// onDuplicateIgnore makes an INSERT do nothing when the key cols is taken.
// MySQL's INSERT IGNORE would also swallow a foreign key violation (an
// unknown user), so it updates col to itself instead.
func (d dialect) onDuplicateIgnore(cols, col string) string {
	if d.mysql {
		return "ON DUPLICATE KEY UPDATE " + col + " = " + col
	}
	return "ON CONFLICT (" + cols + ") DO NOTHING"
}

// inList returns the inListFmt condition on column col.
func (d dialect) inList(col string) string { return fmt.Sprintf(d.inListFmt, col) }

// jsonList encodes l as a JSON array (SQLite's and MySQL's listArg).
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
