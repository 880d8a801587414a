package sqlstore

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
)

// placeholder finds Postgres's $n parameters.
var placeholder = regexp.MustCompile(`\$(\d+)`)

// TestPostgresHotQueriesUseIndexes EXPLAINs the queries every login,
// refresh, token check and admin page runs, and the retention purge, with
// sequential scans priced out (enable_seqscan = off): a plan that still
// has a Seq Scan or a Sort has no index to use, and at a million rows it
// would read or sort the whole table. The queries are the store's own
// statements, so a change to one is checked here.
func TestPostgresHotQueriesUseIndexes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	listPage, _ := s.listUsersSQL(store.UserQuery{Limit: 50, After: store.UserCursor{CreatedAt: time.Now(), ID: "u"}})
	firstPage, _ := s.listUsersSQL(store.UserQuery{Limit: 50})
	cases := []struct {
		name, query string
	}{
		{"login by email", s.uq.byEmail},
		{"user by id", s.uq.byID},
		{"session by id", s.sq.byID},
		{"session by id for update", s.sq.byIDForUpdate},
		{"refresh rotation", s.sq.rotate},
		{"refresh rotation with user", s.d.rebind(rotateWithUserSQL(s.d))},
		{"revoke user sessions", s.sq.revokeUser},
		{"list sessions", s.sq.list},
		{"list users first page", firstPage},
		{"list users keyset page", listPage},
		{"audit page", s.d.rebind(`SELECT ` + auditCols + ` FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT ?`)},
		{"audit page of a user", s.d.rebind(`SELECT ` + auditCols + ` FROM audit_events WHERE id < ? AND user_id = ? ORDER BY id DESC LIMIT ?`)},
		{"audit purge", s.d.rebind(purgeAuditSQL)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Every parameter as text "1": Postgres infers each one's type
			// from the statement and "1" parses as text, integer and bool.
			n := 0
			for _, m := range placeholder.FindAllStringSubmatch(c.query, -1) {
				k, _ := strconv.Atoi(m[1])
				n = max(n, k)
			}
			args := make([]any, n)
			for i := range args {
				args[i] = "1"
			}
			rows, err := conn.QueryContext(ctx, `EXPLAIN `+c.query, args...)
			if err != nil {
				t.Fatalf("EXPLAIN: %v\n%s", err, c.query)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "Seq Scan") || regexp.MustCompile(`(?m)^\s*(->\s*)?Sort\b`).MatchString(text) {
				t.Fatalf("plan reads or sorts a whole table:\n%s\nquery:\n%s", text, c.query)
			}
			t.Logf("%s", text)
		})
	}
}
