package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// adminUA is the user agent of the admin's requests.
const adminUA = "admin-console/2.0"

// asAdmin registers email, grants it the admin role in the store, and
// returns a token carrying the role and the user id.
func (s *server) asAdmin(email string) (access, id string) {
	s.t.Helper()
	tk := s.signedUp(email)
	id = userID(s.t, tk)
	if err := s.App.Store().GrantRole(context.Background(), id, "admin"); err != nil {
		s.t.Fatal(err)
	}
	return s.login(email, pw).AccessToken, id
}

// admin sends an admin request with the admin's user agent; body nil
// sends none.
func (s *server) admin(method, path, access string, body any) response {
	s.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + access, "User-Agent": adminUA}
	if body == nil {
		return s.do(method, path, "", "", h)
	}
	b, ok := body.(string)
	if !ok {
		j, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		b = string(j)
	}
	return s.do(method, path, "application/json", b, h)
}

// auditRow is one event of GET /v1/admin/audit.
type auditRow struct {
	typ, outcome, user, actor, ip, ua, detail string
}

// auditOf reads every audit event of user through the admin API, newest
// first, paging with limit.
func (s *server) auditOf(access, user string, limit int) []auditRow {
	s.t.Helper()
	var out []auditRow
	q := url.Values{"user_id": {user}, "limit": {fmt.Sprint(limit)}}
	for pages := 0; pages < 100; pages++ {
		m := s.admin("GET", "/v1/admin/audit?"+q.Encode(), access, nil).want(s.t, http.StatusOK).JSON(s.t)
		for _, e := range m["events"].([]any) {
			ev := e.(map[string]any)
			out = append(out, auditRow{ev["type"].(string), ev["outcome"].(string), ev["user_id"].(string), ev["actor_id"].(string),
				ev["ip"].(string), ev["user_agent"].(string), ev["detail"].(string)})
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out
		}
		q.Set("cursor", next)
	}
	s.t.Fatal("audit paging does not end")
	return nil
}

// waitAudit polls the trail of user until pred holds (events are
// written off the request path, in batches).
func (s *server) waitAudit(access, user string, pred func([]auditRow) bool) []auditRow {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows := s.auditOf(access, user, 7)
		if pred(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("audit trail of %s never matched:\n%+v", user, rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// adminRoutes lists every admin route with a request that would succeed
// for an admin (the target id and role filled in).
func adminRoutes(target string) []struct{ method, path, body string } {
	return []struct{ method, path, body string }{
		{"GET", "/v1/admin/users", ""},
		{"POST", "/v1/admin/users", `{"email":"guard-probe@example.com"}`},
		{"GET", "/v1/admin/users/" + target, ""},
		{"POST", "/v1/admin/users/" + target + "/disable", ""},
		{"POST", "/v1/admin/users/" + target + "/enable", ""},
		{"PUT", "/v1/admin/users/" + target + "/roles/editor", ""},
		{"DELETE", "/v1/admin/users/" + target + "/roles/editor", ""},
		{"POST", "/v1/admin/users/" + target + "/logout", ""},
		{"DELETE", "/v1/admin/users/" + target + "/mfa", ""},
		{"DELETE", "/v1/admin/users/" + target, ""},
		{"GET", "/v1/admin/audit", ""},
	}
}

// The admin API answers 401 with a Bearer challenge without a token and
// 403 insufficient_scope to a token without the admin role, on every
// route, and changes nothing.
func TestAdminGuard(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		user := s.signedUp("mallory@example.com")
		target := userID(t, user)
		if err := s.App.Store().GrantRole(t.Context(), target, "editor"); err != nil {
			t.Fatal(err)
		}
		user = s.login("mallory@example.com", pw) // roles [editor], not admin
		for _, r := range adminRoutes(target) {
			ct := ""
			if r.body != "" {
				ct = "application/json"
			}
			none := s.do(r.method, r.path, ct, r.body, nil)
			none.want(t, http.StatusUnauthorized)
			if !strings.HasPrefix(none.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s without a token: WWW-Authenticate %q", r.method, r.path, none.Header.Get("WWW-Authenticate"))
			}
			s.do(r.method, r.path, ct, r.body, map[string]string{"Authorization": "Bearer " + user.AccessToken}).
				wantError(t, http.StatusForbidden, "insufficient_scope")
		}
		if u, err := s.App.Store().UserByID(t.Context(), target); err != nil || u.Disabled || !slices.Equal(u.Roles, []string{"editor"}) {
			t.Fatalf("a refused request changed the user: %+v, %v", u, err)
		}
		if _, err := s.App.Store().UserByEmail(t.Context(), "guard-probe@example.com"); err == nil {
			t.Fatal("a refused create made a user")
		}
		// And every route works for an admin.
		admin, _ := s.asAdmin("root@example.com")
		for _, r := range adminRoutes(target) {
			want := map[string]int{"GET": http.StatusOK, "POST": http.StatusNoContent, "PUT": http.StatusNoContent, "DELETE": http.StatusNoContent}[r.method]
			if r.path == "/v1/admin/users" && r.method == "POST" {
				want = http.StatusCreated
			}
			var body any
			if r.body != "" {
				body = r.body
			}
			s.admin(r.method, r.path, admin, body).want(t, want)
		}
	})
}

// Paging through 250 users (and the admin) in pages of 37 returns each
// exactly once, in creation order, filters included; bad parameters are
// 400 invalid_request.
func TestAdminUserPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := testConfig()
		b.configure(t, &cfg)
		clk := newClock()
		s := start(t, cfg, clk)
		admin, adminID := s.asAdmin("admin@example.com")
		all := []string{adminID}
		roles, disabled := map[string]bool{}, map[string]bool{}
		ctx := t.Context()
		base := clk.Now().Add(time.Minute)
		for i := range 250 {
			// Every tenth user shares its creation instant with the one
			// before: the id breaks the tie.
			at := base.Add(time.Duration(i-i/10) * time.Millisecond)
			u := store.User{ID: fmt.Sprintf("%08d-0000-4000-8000-%012d", 250-i, i), Email: fmt.Sprintf("p%03d@Example.com", i),
				PasswordHash: "x", CreatedAt: at, UpdatedAt: at, Disabled: i%7 == 0}
			if i%5 == 0 {
				u.Roles = []string{"ops"}
				roles[u.ID] = true
			}
			disabled[u.ID] = u.Disabled
			if _, err := s.App.Store().CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			all = append(all, u.ID)
		}
		// all is in creation order except within ties.
		sortByCreation := func(ids []string) {
			idx := map[string]int{}
			for i, id := range all {
				idx[id] = i
			}
			slices.SortFunc(ids, func(a, b string) int {
				ia, ib := idx[a], idx[b]
				ta, tb := -1, -1
				if ia > 0 {
					ta = (ia - 1) - (ia-1)/10
				}
				if ib > 0 {
					tb = (ib - 1) - (ib-1)/10
				}
				if ta != tb {
					return ta - tb
				}
				return strings.Compare(a, b)
			})
		}
		sortByCreation(all)
		list := func(query url.Values) []string {
			var ids []string
			seen := map[string]bool{}
			for pages := 0; ; pages++ {
				if pages > 300 {
					t.Fatal("paging does not end")
				}
				m := s.admin("GET", "/v1/admin/users?"+query.Encode(), admin, nil).want(t, http.StatusOK).JSON(t)
				for _, u := range m["users"].([]any) {
					id := u.(map[string]any)["id"].(string)
					if seen[id] {
						t.Fatalf("user %s listed twice", id)
					}
					seen[id] = true
					ids = append(ids, id)
				}
				next, isString := m["next_cursor"].(string)
				if !isString {
					if m["next_cursor"] != nil {
						t.Fatalf("next_cursor = %v", m["next_cursor"])
					}
					return ids
				}
				query.Set("cursor", next)
			}
		}
		keep := func(pred func(id string) bool) []string {
			var out []string
			for _, id := range all {
				if pred(id) {
					out = append(out, id)
				}
			}
			return out
		}
		tests := []struct {
			name  string
			query url.Values
			want  []string
		}{
			{"every user", url.Values{"limit": {"37"}}, all},
			{"default page size", url.Values{}, all},
			{"largest page", url.Values{"limit": {"200"}}, all},
			{"role", url.Values{"limit": {"9"}, "role": {"ops"}}, keep(func(id string) bool { return roles[id] })},
			{"disabled", url.Values{"limit": {"4"}, "disabled": {"true"}}, keep(func(id string) bool { return disabled[id] })},
			{"enabled holders", url.Values{"limit": {"11"}, "disabled": {"false"}, "role": {"ops"}},
				keep(func(id string) bool { return roles[id] && !disabled[id] && id != adminID })},
			{"email prefix, any case", url.Values{"limit": {"3"}, "email_prefix": {"P01"}},
				keep(func(id string) bool { return strings.HasPrefix(emailOf(id), "p01") })},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := list(tt.query)
				sortedGot := slices.Clone(got)
				sortByCreation(sortedGot)
				if !slices.Equal(got, sortedGot) {
					t.Errorf("not in creation order")
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("%d users, want %d\n got %q\nwant %q", len(got), len(tt.want), got, tt.want)
				}
			})
		}
		// The entries carry what the listing promises.
		m := s.admin("GET", "/v1/admin/users?limit=1", admin, nil).want(t, http.StatusOK).JSON(t)
		first := m["users"].([]any)[0].(map[string]any)
		for _, field := range []string{"id", "email", "email_verified", "disabled", "roles", "created_at", "last_login_at"} {
			if _, ok := first[field]; !ok {
				t.Errorf("a listed user lacks %s: %v", field, first)
			}
		}
		for _, bad := range []string{"limit=0", "limit=201", "limit=ten", "limit=1&limit=2", "disabled=yes", "cursor=%21%21",
			"cursor=eyJ0IjoxfQ", "role=Admin"} {
			s.admin("GET", "/v1/admin/users?"+bad, admin, nil).wantError(t, http.StatusBadRequest, "invalid_request")
		}
		for _, bad := range []string{"since=yesterday", "limit=500", "cursor=abc"} {
			s.admin("GET", "/v1/admin/audit?"+bad, admin, nil).wantError(t, http.StatusBadRequest, "invalid_request")
		}
	})
}

// emailOf is the stored email of a user TestAdminUserPagination made.
func emailOf(id string) string {
	var rev, i int
	if _, err := fmt.Sscanf(id, "%08d-0000-4000-8000-%012d", &rev, &i); err != nil {
		return ""
	}
	return fmt.Sprintf("p%03d@example.com", i)
}

// hasRow reports whether rows hold an event of typ (and detail) by actor.
func hasRow(rows []auditRow, typ, detail, actor string) bool {
	return slices.ContainsFunc(rows, func(r auditRow) bool {
		return r.typ == typ && r.detail == detail && r.actor == actor && r.outcome == "success"
	})
}

// Every admin action works, takes effect at once where it should, and is
// on the audit trail with the admin as actor_id, the user as user_id and
// the admin's IP and user agent; an unknown user is 404 on every route;
// the admin cannot lock themselves out (409 conflict).
func TestAdminActionsAndAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		admin, adminID := s.asAdmin("admin@example.com")

		r := s.admin("POST", "/v1/admin/users", admin, map[string]any{
			"email": "Bob@Example.com", "password": pw, "roles": []string{"viewer"}, "email_verified": true,
		}).want(t, http.StatusCreated)
		created := r.JSON(t)
		id, _ := created["id"].(string)
		if created["email"] != "bob@example.com" || created["email_verified"] != true || created["disabled"] != false ||
			created["last_login_at"] != nil || fmt.Sprint(created["roles"]) != "[viewer]" || r.Header.Get("Location") != "/v1/admin/users/"+id {
			t.Fatalf("created %v (Location %q)", created, r.Header.Get("Location"))
		}
		s.admin("POST", "/v1/admin/users", admin, map[string]any{"email": "bob@example.com", "password": pw}).
			wantError(t, http.StatusConflict, "email_taken")
		s.admin("POST", "/v1/admin/users", admin, `{"email":"x@example.com","Password":"p"}`).wantError(t, http.StatusBadRequest, "invalid_request")
		s.admin("POST", "/v1/admin/users", admin, `{"email":"x@example.com","password":""}`).wantError(t, http.StatusBadRequest, "invalid_request")
		s.admin("POST", "/v1/admin/users", admin, `{"email":"x@example.com","roles":["a,b"]}`).wantError(t, http.StatusBadRequest, "invalid_request")

		detail := func() map[string]any {
			return s.admin("GET", "/v1/admin/users/"+id, admin, nil).want(t, http.StatusOK).JSON(t)
		}
		if d := detail(); d["sessions"] != 0.0 || d["last_login_at"] != nil {
			t.Fatalf("before any login: %v", d)
		}
		bob := s.login("bob@example.com", pw)
		s.login("bob@example.com", pw)
		if d := detail(); d["sessions"] != 2.0 || d["last_login_at"] == nil {
			t.Fatalf("after two logins: %v", d)
		}

		// Disable: live tokens and refresh refused at once, login 403.
		s.admin("POST", "/v1/admin/users/"+id+"/disable", admin, nil).want(t, http.StatusNoContent)
		s.admin("POST", "/v1/admin/users/"+id+"/disable", admin, nil).want(t, http.StatusNoContent)
		s.get("/v1/me", bob.AccessToken).want(t, http.StatusUnauthorized)
		s.refresh(bob.RefreshToken).want(t, http.StatusBadRequest)
		s.postJSON("/v1/login", map[string]string{"email": "bob@example.com", "password": pw}).wantError(t, http.StatusForbidden, "user_disabled")
		if d := detail(); d["disabled"] != true || d["sessions"] != 0.0 {
			t.Fatalf("after disable: %v", d)
		}
		s.admin("POST", "/v1/admin/users/"+id+"/enable", admin, nil).want(t, http.StatusNoContent)
		bob = s.login("bob@example.com", pw)

		// Roles: idempotent both ways; the next token carries the change.
		for range 2 {
			s.admin("PUT", "/v1/admin/users/"+id+"/roles/editor", admin, nil).want(t, http.StatusNoContent)
		}
		if roles := fmt.Sprint(claims(t, s.login("bob@example.com", pw).AccessToken)["roles"]); roles != "[editor viewer]" {
			t.Fatalf("roles after the grant: %s", roles)
		}
		for range 2 {
			s.admin("DELETE", "/v1/admin/users/"+id+"/roles/viewer", admin, nil).want(t, http.StatusNoContent)
		}
		s.admin("PUT", "/v1/admin/users/"+id+"/roles/Bad,Role", admin, nil).wantError(t, http.StatusBadRequest, "invalid_request")
		if d := detail(); fmt.Sprint(d["roles"]) != "[editor]" {
			t.Fatalf("roles after the revoke: %v", d["roles"])
		}

		// Logout: every session ends, the live token is refused at once.
		s.admin("POST", "/v1/admin/users/"+id+"/logout", admin, nil).want(t, http.StatusNoContent)
		s.get("/v1/me", bob.AccessToken).want(t, http.StatusUnauthorized)
		if d := detail(); d["sessions"] != 0.0 {
			t.Fatalf("after logout: %v", d)
		}

		// Unknown users are 404 on every route that names one.
		for _, r := range adminRoutes("00000000-0000-4000-8000-000000000000") {
			if strings.Count(r.path, "/") > 3 {
				s.admin(r.method, r.path, admin, nil).wantError(t, http.StatusNotFound, "not_found")
			}
		}

		// The last-admin rule.
		s.admin("POST", "/v1/admin/users/"+adminID+"/disable", admin, nil).wantError(t, http.StatusConflict, "conflict")
		s.admin("DELETE", "/v1/admin/users/"+adminID+"/roles/admin", admin, nil).wantError(t, http.StatusConflict, "conflict")
		s.admin("DELETE", "/v1/admin/users/"+adminID, admin, nil).wantError(t, http.StatusConflict, "conflict")
		s.admin("GET", "/v1/admin/users", admin, nil).want(t, http.StatusOK) // still an admin
		// Another admin may do to the first what the first may not.
		s.admin("PUT", "/v1/admin/users/"+id+"/roles/admin", admin, nil).want(t, http.StatusNoContent)
		second := s.login("bob@example.com", pw).AccessToken
		s.admin("DELETE", "/v1/admin/users/"+adminID+"/roles/admin", second, nil).want(t, http.StatusNoContent)
		s.admin("GET", "/v1/admin/users", s.login("admin@example.com", pw).AccessToken, nil).wantError(t, http.StatusForbidden, "insufficient_scope")

		want := []struct{ typ, detail, actor string }{
			{"user_created", "password", adminID},
			{"role_change", "grant:viewer", adminID},
			{"user_disabled", "", adminID},
			{"user_enabled", "", adminID},
			{"role_change", "grant:editor", adminID},
			{"role_change", "revoke:viewer", adminID},
			{"user_logout", "", adminID},
			{"role_change", "grant:admin", adminID},
		}
		rows := s.waitAudit(admin, id, func(rows []auditRow) bool {
			for _, w := range want {
				if !hasRow(rows, w.typ, w.detail, w.actor) {
					return false
				}
			}
			return true
		})
		for _, r := range rows {
			if r.actor == "" {
				continue // the user's own logins
			}
			if r.actor != adminID || r.user != id || r.ip != "127.0.0.1" || r.ua != adminUA {
				t.Errorf("admin event %+v: want actor %s, user %s, ip 127.0.0.1, ua %s", r, adminID, id, adminUA)
			}
		}
		s.waitAudit(admin, adminID, func(rows []auditRow) bool { return hasRow(rows, "role_change", "revoke:admin", id) })
		// Filters: by type and since.
		m := s.admin("GET", "/v1/admin/audit?type=user_disabled&since="+url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)),
			admin, nil).want(t, http.StatusOK).JSON(t)
		// Disabled twice (idempotent, and each call recorded).
		if evs := m["events"].([]any); len(evs) != 2 || evs[0].(map[string]any)["user_id"] != id || m["next_cursor"] != nil {
			t.Fatalf("type filter: %v", m)
		}
		m = s.admin("GET", "/v1/admin/audit?since="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
			admin, nil).want(t, http.StatusOK).JSON(t)
		if evs := m["events"].([]any); len(evs) != 0 {
			t.Fatalf("since the future: %v", m)
		}
	})
}

// Deleting a user refuses their tokens at once, leaves nothing to find
// (404, no login), and keeps their audit events under the user id with the
// IP and user agent erased; the deletion itself is recorded with the
// admin as actor.
func TestAdminDeleteUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		admin, adminID := s.asAdmin("admin@example.com")
		carol := s.signedUp("carol@example.com")
		id := userID(t, carol)
		laptop := decodeTokens(t, s.do("POST", "/v1/login", "application/json",
			fmt.Sprintf(`{"email":"carol@example.com","password":%q}`, pw), map[string]string{"User-Agent": "carol-laptop"}).want(t, http.StatusOK))
		s.waitAudit(admin, id, func(rows []auditRow) bool {
			return slices.ContainsFunc(rows, func(r auditRow) bool { return r.ua == "carol-laptop" })
		})
		// A login a moment before the deletion, whose event may still be
		// queued when the store erases the trail.
		phone := decodeTokens(t, s.do("POST", "/v1/login", "application/json",
			fmt.Sprintf(`{"email":"carol@example.com","password":%q}`, pw), map[string]string{"User-Agent": "carol-phone"}).want(t, http.StatusOK))

		s.admin("DELETE", "/v1/admin/users/"+id, admin, nil).want(t, http.StatusNoContent)
		for _, tk := range []tokens{carol, laptop, phone} {
			s.get("/v1/me", tk.AccessToken).want(t, http.StatusUnauthorized)
			s.refresh(tk.RefreshToken).want(t, http.StatusBadRequest)
		}
		s.admin("GET", "/v1/admin/users/"+id, admin, nil).wantError(t, http.StatusNotFound, "not_found")
		s.admin("DELETE", "/v1/admin/users/"+id, admin, nil).wantError(t, http.StatusNotFound, "not_found")
		s.postJSON("/v1/login", map[string]string{"email": "carol@example.com", "password": pw}).wantError(t, http.StatusUnauthorized, "invalid_credentials")
		m := s.admin("GET", "/v1/admin/users?email_prefix=carol", admin, nil).want(t, http.StatusOK).JSON(t)
		if users := m["users"].([]any); len(users) != 0 {
			t.Fatalf("a deleted user is listed: %v", users)
		}

		rows := s.waitAudit(admin, id, func(rows []auditRow) bool { return hasRow(rows, "user_deleted", "", adminID) })
		logins := 0
		for _, r := range rows {
			if r.typ == "user_deleted" {
				if r.ip != "127.0.0.1" || r.ua != adminUA {
					t.Errorf("the deletion's event lacks the admin's device: %+v", r)
				}
				continue
			}
			if r.typ == "login" {
				logins++
			}
			if r.user != id || r.ip != "" || r.ua != "" {
				t.Errorf("event %+v of the deleted user keeps personal data", r)
			}
		}
		if logins != 3 || len(rows) < 5 { // register, 3 logins, the deletion
			t.Fatalf("the deleted user's trail: %+v", rows)
		}
		// The email can be used for a new account, which is another user.
		nu := s.signedUp("carol@example.com")
		if userID(t, nu) == id {
			t.Fatal("the new account reuses the deleted id")
		}
	})
}

// An account created without a password gets an invite mail whose link
// sets the password through /v1/password/reset; then login works.
func TestAdminInvite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, mails := startMailing(t, b, newClock(), nil)
		admin, adminID := s.asAdmin("admin@example.com")
		nextMail(t, mails, "admin@example.com", "Confirm") // the admin's own verification
		u := s.admin("POST", "/v1/admin/users", admin, map[string]any{"email": "dan@example.com", "roles": []string{"ops"}}).
			want(t, http.StatusCreated).JSON(t)
		id := u["id"].(string)
		s.postJSON("/v1/login", map[string]string{"email": "dan@example.com", "password": pw}).wantError(t, http.StatusUnauthorized, "invalid_credentials")
		m := nextMail(t, mails, "dan@example.com", "invited")
		if !strings.Contains(m.Text, "3 days") {
			t.Fatalf("the invite does not say how long it works:\n%s", m.Text)
		}
		tok := tokenFrom(t, m, "/reset-password")
		s.Clock.Advance(48 * time.Hour) // well past a reset link's 30 minutes
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": newPW}).want(t, http.StatusNoContent)
		dan := s.login("dan@example.com", newPW)
		if userID(t, dan) != id || fmt.Sprint(claims(t, dan.AccessToken)["roles"]) != "[ops]" {
			t.Fatalf("the invited user's token: %v", claims(t, dan.AccessToken))
		}
		// Following the link verified the address.
		fresh := s.admin("GET", "/v1/admin/users/"+id, s.login("admin@example.com", pw).AccessToken, nil).want(t, http.StatusOK).JSON(t)
		if fresh["email_verified"] != true || fresh["sessions"] != 1.0 {
			t.Fatalf("after the invite: %v", fresh)
		}
		s.postJSON("/v1/password/reset", map[string]string{"token": tok, "password": "yet another horse"}).wantTokenError(t)
		s.waitAudit(s.login("admin@example.com", pw).AccessToken, id, func(rows []auditRow) bool {
			return hasRow(rows, "user_created", "invite", adminID) && hasRow(rows, "role_change", "grant:ops", adminID)
		})
	})
}
