package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

func testLastLoginAt(t *testing.T, s Store) {
	ctx := ctxT(t)
	u := newUser(t, s, "u1")
	newUser(t, s, "u2")
	if !u.LastLoginAt.IsZero() {
		t.Fatalf("LastLoginAt of a new user = %v, want zero", u.LastLoginAt)
	}
	t1, t2 := base().Add(time.Hour+1500), base().Add(2*time.Hour)
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		want    time.Time
	}{
		{"first login", func() error { _, err := s.CreateSession(ctx, loginAt("s1", u, t1)); return err }, nil, t1},
		{"newer login", func() error { _, err := s.CreateSession(ctx, loginAt("s2", u, t2)); return err }, nil, t2},
		{"older login committing late", func() error { _, err := s.CreateSession(ctx, loginAt("s3", u, t1)); return err }, nil, t2},
		{"taken session id", func() error { _, err := s.CreateSession(ctx, loginAt("s1", u, t2.Add(time.Hour))); return err },
			store.ErrAlreadyExists, t2},
		{"credentials changed since", func() error {
			if err := s.UpdatePasswordHash(ctx, "u1", "new"); err != nil {
				return err
			}
			_, err := s.CreateSession(ctx, loginAt("s4", u, t2.Add(time.Hour)))
			return err
		}, store.ErrCredentialsChanged, t2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, st.name, st.do(), st.wantErr)
			want := st.want.Truncate(time.Microsecond)
			byID, err := s.UserByID(ctx, "u1")
			wantErr(t, "UserByID", err, nil)
			byEmail, err := s.UserByEmail(ctx, "u1@example.com")
			wantErr(t, "UserByEmail", err, nil)
			listed, err := s.ListUsers(ctx, store.UserQuery{Limit: 10})
			wantErr(t, "ListUsers", err, nil)
			if len(listed) != 2 {
				t.Fatalf("ListUsers = %d users, want 2", len(listed))
			}
			for name, got := range map[string]time.Time{"UserByID": byID.LastLoginAt, "UserByEmail": byEmail.LastLoginAt, "ListUsers": listed[0].LastLoginAt} {
				same(t, name+" LastLoginAt", got, want)
			}
			if !listed[1].LastLoginAt.IsZero() {
				t.Errorf("u2 LastLoginAt = %v: u1's logins leaked", listed[1].LastLoginAt)
			}
		})
	}
}

// loginAt is a login of u at `at`, against the credential version u was
// read with.
func loginAt(id string, u store.User, at time.Time) store.NewSession {
	ns := loginSession(id, u)
	ns.RefreshIssuedAt, ns.ExpiresAt = at, at.Add(time.Hour)
	return ns
}

// listAll pages through ListUsers with q (its After ignored) and returns
// every user in order, failing t on a page longer than q.Limit. between
// runs after each page.
func listAll(t *testing.T, s Store, q store.UserQuery, between func(page []store.User)) []store.User {
	t.Helper()
	q.After = store.UserCursor{}
	var all []store.User
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		page, err := s.ListUsers(ctxT(t), q)
		wantErr(t, "ListUsers", err, nil)
		if len(page) > q.Limit {
			t.Fatalf("page of %d users, limit %d", len(page), q.Limit)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all
		}
		last := page[len(page)-1]
		q.After = store.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		if between != nil {
			between(page)
		}
	}
}

// before reports whether a precedes b in ListUsers' order.
func before(a, b store.User) bool {
	return a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID
}

// checkOrdered fails t unless users are strictly in ListUsers' order
// (hence without duplicates).
func checkOrdered(t *testing.T, users []store.User) {
	t.Helper()
	for i := 1; i < len(users); i++ {
		if !before(users[i-1], users[i]) {
			t.Fatalf("users %d and %d out of order or repeated: %s@%v then %s@%v", i-1, i,
				users[i-1].ID, users[i-1].CreatedAt, users[i].ID, users[i].CreatedAt)
		}
	}
}

func testListUsersPagination(t *testing.T, s Store) {
	ctx := ctxT(t)
	const n = 250
	want := map[string]store.User{}
	for i := range n {
		// Ten users per instant, their ids in another order than their
		// creation, so that the id breaks ties.
		id := fmt.Sprintf("u%03d", (i*37)%n)
		u := store.User{ID: id, Email: id + "@example.com", PasswordHash: "h",
			CreatedAt: base().Add(time.Duration(i/10) * time.Second), Disabled: i%7 == 0}
		if i%5 == 0 {
			u.Roles = []string{"viewer", "admin"}
		}
		got, err := s.CreateUser(ctx, u)
		wantErr(t, "CreateUser", err, nil)
		want[id] = got
	}
	newSession(t, s, "s1", "u000", base().Add(time.Hour), time.Hour)
	u0 := want["u000"]
	u0.LastLoginAt = base().Add(time.Hour)
	want["u000"] = u0

	all := listAll(t, s, store.UserQuery{Limit: 7}, nil)
	checkOrdered(t, all)
	if len(all) != n {
		t.Fatalf("paged through %d users, want %d", len(all), n)
	}
	for _, got := range all {
		w, ok := want[got.ID]
		if !ok {
			t.Fatalf("ListUsers returned unknown user %q", got.ID)
		}
		// Roles come from the page's own query: the same as a single read.
		same(t, "listed "+got.ID, got, w)
		if got.Roles == nil {
			t.Fatalf("user %s: Roles nil, want empty", got.ID)
		}
	}
	one, err := s.ListUsers(ctx, store.UserQuery{Limit: 1000})
	wantErr(t, "ListUsers(1000)", err, nil)
	if len(one) != n {
		t.Fatalf("one page of 1000 = %d users, want %d", len(one), n)
	}
	last := all[n-1]
	rest, err := s.ListUsers(ctx, store.UserQuery{Limit: 7, After: store.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}})
	wantErr(t, "ListUsers after the last", err, nil)
	if len(rest) != 0 {
		t.Fatalf("after the last user: %d users", len(rest))
	}
}

// testListUsersConcurrentCreates pages through users while others are
// created, by the pager between pages and by a writer all along: every
// user that existed before the first page is listed exactly once, in
// order, and so is every user created after the cursor.
func testListUsersConcurrentCreates(t *testing.T, s Store) {
	ctx := ctxT(t)
	const n = 250
	orig := map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		_, err := s.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", PasswordHash: "h",
			CreatedAt: base().Add(time.Duration(i) * time.Millisecond)})
		wantErr(t, "CreateUser", err, nil)
		orig[id] = true
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writerErr error
	written := 0
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("w%04d", i)
			// Anywhere in the range, before or after the pager's cursor.
			at := base().Add(time.Duration((i*7919)%(n+50)) * time.Millisecond)
			if _, err := s.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", PasswordHash: "h", CreatedAt: at}); err != nil {
				writerErr = err
				return
			}
			written++
			time.Sleep(time.Millisecond)
		}
	})

	mustAppear, mustNot := map[string]bool{}, map[string]bool{}
	k := 0
	all := listAll(t, s, store.UserQuery{Limit: 7}, func(page []store.User) {
		last := page[len(page)-1]
		k++
		// Ids are letters and digits only, and a longer id extends a
		// shorter one, so that they sort the same bytewise and under any
		// database collation.
		for _, c := range []struct {
			id     string
			at     time.Time
			appear bool
		}{
			{fmt.Sprintf("early%03d", k), last.CreatedAt.Add(-time.Millisecond), false},
			{fmt.Sprintf("a%03d", k), last.CreatedAt, false},             // same instant, smaller id
			{fmt.Sprintf("%stie%03d", last.ID, k), last.CreatedAt, true}, // same instant, larger id
			{fmt.Sprintf("late%03d", k), base().Add(time.Hour + time.Duration(k)*time.Second), true},
		} {
			if c.at.Equal(last.CreatedAt) && (c.id > last.ID) != c.appear {
				t.Fatalf("fixture %q does not sort as intended against %q", c.id, last.ID)
			}
			_, err := s.CreateUser(ctx, store.User{ID: c.id, Email: c.id + "@example.com", PasswordHash: "h", CreatedAt: c.at})
			wantErr(t, "CreateUser between pages", err, nil)
			if c.appear {
				mustAppear[c.id] = true
			} else {
				mustNot[c.id] = true
			}
		}
	})
	close(stop)
	wg.Wait()
	if writerErr != nil {
		t.Fatalf("concurrent CreateUser: %v", writerErr)
	}

	checkOrdered(t, all)
	seen := map[string]bool{}
	for _, u := range all {
		seen[u.ID] = true
		if mustNot[u.ID] {
			t.Errorf("user %s, created before the cursor, was listed", u.ID)
		}
	}
	for _, set := range []map[string]bool{orig, mustAppear} {
		for id := range set {
			if !seen[id] {
				t.Errorf("user %s missing from the pages", id)
			}
		}
	}
	if k < n/7 {
		t.Fatalf("only %d pages", k)
	}
	t.Logf("%d pages; %d users created between pages, %d by the concurrent writer", k+1, 4*k, written)
}

func testListUsersFilters(t *testing.T, s Store) {
	ctx := ctxT(t)
	fixtures := []struct {
		id, email string
		roles     []string
		disabled  bool
	}{
		{"alice", "alice@example.com", []string{"admin", "viewer"}, false},
		{"al_ex", "al_ex@example.com", []string{"viewer"}, true},
		{"alxex", "alxex@example.com", nil, false},
		{"pct", "100%off@example.com", nil, false},
		{"pct2", "100xoff@example.com", []string{"auditor"}, true},
		{"bslash", `a\b@example.com`, nil, false},
		{"bob", "BOB@Example.com", []string{"auditor"}, false},
	}
	for i, f := range fixtures {
		_, err := s.CreateUser(ctx, store.User{ID: f.id, Email: f.email, PasswordHash: "h", Roles: f.roles,
			Disabled: f.disabled, CreatedAt: base().Add(time.Duration(i) * time.Second)})
		wantErr(t, "CreateUser "+f.id, err, nil)
	}
	yes, no := true, false
	cases := []struct {
		name string
		q    store.UserQuery
		want []string
	}{
		{"no filter", store.UserQuery{}, []string{"alice", "al_ex", "alxex", "pct", "pct2", "bslash", "bob"}},
		{"prefix", store.UserQuery{EmailPrefix: "al"}, []string{"alice", "al_ex", "alxex"}},
		{"underscore is literal", store.UserQuery{EmailPrefix: "al_"}, []string{"al_ex"}},
		{"percent is literal", store.UserQuery{EmailPrefix: "100%"}, []string{"pct"}},
		{"backslash is literal", store.UserQuery{EmailPrefix: `a\`}, []string{"bslash"}},
		{"prefix is lower-cased", store.UserQuery{EmailPrefix: "AL_"}, []string{"al_ex"}},
		{"stored lower-case", store.UserQuery{EmailPrefix: "bob@example."}, []string{"bob"}},
		{"whole email", store.UserQuery{EmailPrefix: "alice@example.com"}, []string{"alice"}},
		{"no match", store.UserQuery{EmailPrefix: "zz"}, nil},
		{"a prefix is no substring", store.UserQuery{EmailPrefix: "example"}, nil},
		{"role", store.UserQuery{Role: "viewer"}, []string{"alice", "al_ex"}},
		{"unknown role", store.UserQuery{Role: "root"}, nil},
		{"disabled", store.UserQuery{Disabled: &yes}, []string{"al_ex", "pct2"}},
		{"enabled", store.UserQuery{Disabled: &no}, []string{"alice", "alxex", "pct", "bslash", "bob"}},
		{"prefix and role", store.UserQuery{EmailPrefix: "al", Role: "viewer"}, []string{"alice", "al_ex"}},
		{"all three", store.UserQuery{EmailPrefix: "al", Role: "viewer", Disabled: &no}, []string{"alice"}},
		{"role and disabled", store.UserQuery{Role: "auditor", Disabled: &yes}, []string{"pct2"}},
	}
	for _, c := range cases {
		for _, limit := range []int{1000, 1, 2} {
			t.Run(fmt.Sprintf("%s/limit %d", c.name, limit), func(t *testing.T) {
				q := c.q
				q.Limit = limit
				got := listAll(t, s, q, nil)
				var ids []string
				for _, u := range got {
					ids = append(ids, u.ID)
					read, err := s.UserByID(ctx, u.ID)
					wantErr(t, "UserByID", err, nil)
					same(t, "listed "+u.ID, u, read)
				}
				if !slices.Equal(ids, c.want) {
					t.Fatalf("ListUsers(%+v) = %v, want %v", q, ids, c.want)
				}
			})
		}
	}
}

func testListUsersLimit(t *testing.T, s Store) {
	ctx := ctxT(t)
	empty, err := s.ListUsers(ctx, store.UserQuery{Limit: 10})
	wantErr(t, "ListUsers on an empty store", err, nil)
	if len(empty) != 0 {
		t.Fatalf("ListUsers on an empty store = %d users", len(empty))
	}
	newUser(t, s, "u1")
	newUser(t, s, "u2")
	for _, c := range []struct {
		limit int
		want  int // -1: refused
	}{{-1, -1}, {0, -1}, {1001, -1}, {1 << 30, -1}, {1, 1}, {2, 2}, {1000, 2}} {
		t.Run(fmt.Sprint(c.limit), func(t *testing.T) {
			got, err := s.ListUsers(ctx, store.UserQuery{Limit: c.limit})
			if c.want < 0 {
				if err == nil {
					t.Fatalf("limit %d accepted", c.limit)
				}
				for _, sentinel := range []error{store.ErrUnavailable, store.ErrNotFound, store.ErrAlreadyExists} {
					if errors.Is(err, sentinel) {
						t.Fatalf("limit %d: %v matches %v; a bad limit is the caller's error", c.limit, err, sentinel)
					}
				}
				return
			}
			wantErr(t, "ListUsers", err, nil)
			if len(got) != c.want {
				t.Fatalf("limit %d: %d users, want %d", c.limit, len(got), c.want)
			}
		})
	}
}

func testDeleteUser(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1", "admin")
	u2 := newUser(t, s, "u2", "viewer")
	for _, sid := range []string{"s1", "s2"} {
		newSession(t, s, sid, "u1", base(), time.Hour)
	}
	newSession(t, s, "s3", "u2", base(), time.Hour)
	newToken(t, s, "t1", purposeA, "u1", time.Hour)
	newToken(t, s, "t2", purposeB, "u1", time.Hour)
	newToken(t, s, "t3", purposeA, "u2", time.Hour)
	events := []store.AuditEvent{
		{At: base(), Type: "login", Outcome: "success", UserID: "u1", SessionID: "s1", IP: "192.0.2.1", UserAgent: "app/1"},
		{At: base(), Type: "login", Outcome: "success", UserID: "u2", SessionID: "s3", IP: "192.0.2.2", UserAgent: "app/2"},
		{At: base(), Type: "role_grant", Outcome: "success", UserID: "u1", ActorID: "u2", IP: "192.0.2.2", UserAgent: "admin-ui", Detail: "admin"},
		// u1 acting on u2: the event is u2's, and stays as it is.
		{At: base(), Type: "user_disable", Outcome: "success", UserID: "u2", ActorID: "u1", IP: "192.0.2.1", UserAgent: "admin-ui"},
		{At: base(), Type: "login", Outcome: "failure", UserID: "u1", UserAgent: "app/1", Detail: "invalid_credentials"},
	}
	wantErr(t, "AppendAuditEvents", s.AppendAuditEvents(ctx, events), nil)
	auditOf := func(userID string) []store.AuditEvent {
		got, err := s.AuditEvents(ctx, store.AuditQuery{Limit: 100, UserID: userID})
		wantErr(t, "AuditEvents", err, nil)
		return got
	}
	u1Before, u2Before := auditOf("u1"), auditOf("u2")

	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u1"), nil)

	gone := []struct {
		name string
		err  error
	}{
		{"UserByID", func() error { _, err := s.UserByID(ctx, "u1"); return err }()},
		{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, "u1@example.com"); return err }()},
		{"Session s1", func() error { _, err := s.Session(ctx, "s1"); return err }()},
		{"Session s2", func() error { _, err := s.Session(ctx, "s2"); return err }()},
		{"token t1", func() error { _, err := s.ConsumeOneTimeToken(ctx, digest("t1"), purposeA, base()); return err }()},
		{"token t2", func() error { _, err := s.ConsumeOneTimeToken(ctx, digest("t2"), purposeB, base()); return err }()},
		{"GrantRole", s.GrantRole(ctx, "u1", "viewer")},
		{"DeleteUser again", s.DeleteUser(ctx, "u1")},
		{"DeleteUser of nobody", s.DeleteUser(ctx, "nobody")},
	}
	for _, g := range gone {
		wantErr(t, g.name+" after DeleteUser", g.err, store.ErrNotFound)
	}
	if live, err := s.ListSessions(ctx, "u1", base()); err != nil || len(live) != 0 {
		t.Errorf("ListSessions(u1) after DeleteUser = %v, %v", ids(live), err)
	}
	if listed, err := s.ListUsers(ctx, store.UserQuery{Limit: 10}); err != nil || len(listed) != 1 || listed[0].ID != "u2" {
		t.Errorf("ListUsers after DeleteUser = %+v, %v; want u2 alone", listed, err)
	}

	// The trail stays under the user id, without IP and user agent.
	u1After := auditOf("u1")
	if len(u1After) != len(u1Before) {
		t.Fatalf("u1 has %d audit events after DeleteUser, want %d", len(u1After), len(u1Before))
	}
	for i, e := range u1Before {
		e.IP, e.UserAgent = "", ""
		if !e.At.Equal(u1After[i].At) {
			t.Errorf("event %d At = %v, want %v", e.ID, u1After[i].At, e.At)
		}
		got := u1After[i]
		got.At, e.At = time.Time{}, time.Time{}
		if got != e {
			t.Errorf("u1's event after DeleteUser = %+v, want %+v", got, e)
		}
	}
	if u2After := auditOf("u2"); !slices.Equal(u2After, u2Before) {
		t.Errorf("u2's events changed by u1's deletion:\n got  %+v\n want %+v", u2After, u2Before)
	}

	// The other user keeps everything.
	got, err := s.UserByID(ctx, "u2")
	wantErr(t, "UserByID(u2)", err, nil)
	u2.LastLoginAt = base()
	same(t, "u2 after u1's deletion", got, u2)
	if _, err := s.Session(ctx, "s3"); err != nil {
		t.Errorf("Session s3 of u2: %v", err)
	}
	_, err = s.ConsumeOneTimeToken(ctx, digest("t3"), purposeA, base())
	wantErr(t, "u2's token", err, nil)

	// The id and email are free again, and nothing of the old account
	// comes back with them.
	again, err := s.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", PasswordHash: "h2"})
	wantErr(t, "CreateUser with the deleted id and email", err, nil)
	read, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID(new u1)", err, nil)
	same(t, "new u1", read, again)
	if len(read.Roles) != 0 || !read.LastLoginAt.IsZero() {
		t.Errorf("new u1 inherited roles %v or last login %v", read.Roles, read.LastLoginAt)
	}
}
