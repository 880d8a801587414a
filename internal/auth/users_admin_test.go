package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/testclock"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

const adminPW = "correct horse battery"

// adminDevice is where the admin of these tests acts from.
var adminDevice = auth.Device{IP: "198.51.100.7", UserAgent: "admin-console/1"}

// seedUsers writes n users straight into the store (no bcrypt), created
// one second apart from base, every third one at the same instant as
// the one before (so the id breaks the tie), and returns their ids in
// (created, id) order.
func seedUsers(t *testing.T, st store.Store, n int, base time.Time, decorate func(i int, u *store.User)) []string {
	t.Helper()
	ctx := context.Background()
	type key struct {
		at time.Time
		id string
	}
	var keys []key
	at := base
	for i := range n {
		if i%3 != 2 {
			at = at.Add(time.Second)
		}
		u := store.User{ID: fmt.Sprintf("u-%03d-%d", n-i, i), Email: fmt.Sprintf("user%03d@example.com", i), PasswordHash: "x",
			CreatedAt: at, UpdatedAt: at}
		if decorate != nil {
			decorate(i, &u)
		}
		if _, err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key{at, u.ID})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	return ids
}

// listAll pages through ListUsers with f and returns the ids in order.
func listAll(t *testing.T, svc *auth.Service, f auth.UserFilter) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		page, err := svc.ListUsers(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if f.Limit > 0 && len(page.Users) > f.Limit {
			t.Fatalf("a page of %d users, limit %d", len(page.Users), f.Limit)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		if len(page.Users) == 0 {
			t.Fatal("an empty page with a cursor")
		}
		f.Cursor = page.NextCursor
	}
}

func TestListUsersPagesAndFilters(t *testing.T) {
	f := newFixture(t, denylist.NewMemory(), 4)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := seedUsers(t, f.store, 23, base, func(i int, u *store.User) {
		if i%4 == 0 {
			u.Roles = []string{"ops"}
		}
		u.Disabled = i%5 == 0
	})
	byIndex := func(keep func(i int) bool) []string {
		var want []string
		for _, id := range ids {
			var i, rev int
			fmt.Sscanf(id, "u-%d-%d", &rev, &i)
			if keep(i) {
				want = append(want, id)
			}
		}
		return want
	}
	yes, no := true, false
	tests := []struct {
		name   string
		filter auth.UserFilter
		want   []string
	}{
		{"all, default limit", auth.UserFilter{}, ids},
		{"all, pages of 4", auth.UserFilter{Limit: 4}, ids},
		{"pages of 1", auth.UserFilter{Limit: 1}, ids},
		{"exactly one page", auth.UserFilter{Limit: 23}, ids},
		{"role", auth.UserFilter{Limit: 2, Role: "ops"}, byIndex(func(i int) bool { return i%4 == 0 })},
		{"disabled", auth.UserFilter{Limit: 2, Disabled: &yes}, byIndex(func(i int) bool { return i%5 == 0 })},
		{"enabled", auth.UserFilter{Limit: 5, Disabled: &no}, byIndex(func(i int) bool { return i%5 != 0 })},
		{"prefix, any case", auth.UserFilter{Limit: 3, EmailPrefix: " USER01"}, byIndex(func(i int) bool { return i >= 10 && i < 20 })},
		{"prefix _ is literal", auth.UserFilter{EmailPrefix: "user_"}, nil},
		{"role and enabled", auth.UserFilter{Limit: 1, Role: "ops", Disabled: &no},
			byIndex(func(i int) bool { return i%4 == 0 && i%5 != 0 })},
		{"unheld role", auth.UserFilter{Role: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listAll(t, f.svc, tt.filter); !slices.Equal(got, tt.want) {
				t.Fatalf("ids\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	// The last page carries no cursor, even when it is full.
	page, err := f.svc.ListUsers(ctx, auth.UserFilter{Limit: 23})
	if err != nil || len(page.Users) != 23 || page.NextCursor != "" {
		t.Fatalf("a full last page: %d users, cursor %q, %v", len(page.Users), page.NextCursor, err)
	}
	// Users added behind the cursor while paging are not repeated; those
	// added after it are seen.
	first, err := f.svc.ListUsers(ctx, auth.UserFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	seedUsers(t, f.store, 1, base.Add(-time.Hour), func(_ int, u *store.User) { u.ID, u.Email = "a-early", "early@example.com" })
	late := seedUsers(t, f.store, 2, base.Add(time.Hour), func(i int, u *store.User) {
		u.ID, u.Email = fmt.Sprintf("z-%d", i), fmt.Sprintf("late%d@example.com", i)
	})
	rest := listAll(t, f.svc, auth.UserFilter{Limit: 10, Cursor: first.NextCursor})
	if want := append(slices.Clone(ids[10:]), late...); !slices.Equal(rest, want) {
		t.Fatalf("after concurrent inserts\n got %q\nwant %q", rest, want)
	}
}

func TestListUsersRefusesBadInput(t *testing.T) {
	f := newFixture(t, denylist.NewMemory(), 4)
	seedUsers(t, f.store, 3, time.Now(), nil)
	page, err := f.svc.ListUsers(context.Background(), auth.UserFilter{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("setup: %v", err)
	}
	tests := []struct {
		name   string
		filter auth.UserFilter
	}{
		{"limit 0 is the default, -1 is not", auth.UserFilter{Limit: -1}},
		{"limit above 200", auth.UserFilter{Limit: 201}},
		{"cursor not base64url", auth.UserFilter{Cursor: "!!"}},
		{"cursor padded", auth.UserFilter{Cursor: page.NextCursor + "="}},
		{"cursor of garbage JSON", auth.UserFilter{Cursor: "bm90IGpzb24"}},
		{"cursor with unknown fields", auth.UserFilter{Cursor: "eyJ4IjoxfQ"}},
		{"cursor without id", auth.UserFilter{Cursor: "eyJ0IjoxfQ"}},
		{"cursor too long", auth.UserFilter{Cursor: strings.Repeat("A", 300)}},
		{"role outside the grammar", auth.UserFilter{Role: "Admin"}},
		{"control character in the prefix", auth.UserFilter{EmailPrefix: "a\x00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.ListUsers(context.Background(), tt.filter); !errors.Is(err, auth.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

// adminFixture is a service with an admin (logged in once), a second
// user, and the events recorded.
type adminFixture struct {
	fixture
	events *recorder
	mail   *mailbox
	admin  auth.Actor
	target store.User
	clock  *testclock.Clock
	dl     *denylist.Memory
}

func newAdminFixture(t *testing.T) adminFixture {
	t.Helper()
	af := adminFixture{events: &recorder{}, mail: &mailbox{}, clock: testclock.New(time.Now().Truncate(time.Second))}
	af.dl = denylist.NewMemory(denylist.WithClock(af.clock.Now))
	af.fixture = newFixture(t, af.dl, 4, func(c *auth.Config) {
		c.Events, c.Outbox, c.Clock, c.AdminRole = af.events, af.mail, af.clock.Now, "root"
	})
	ctx := context.Background()
	cli := auth.Actor{Device: auth.Device{UserAgent: "authd-cli test"}}
	admin, err := af.svc.CreateUser(ctx, cli, auth.NewUser{Email: "admin@example.com", Password: adminPW, Roles: []string{"root"}})
	if err != nil {
		t.Fatal(err)
	}
	af.admin = auth.Actor{UserID: admin.ID, Device: adminDevice}
	if af.target, err = af.svc.CreateUser(ctx, cli, auth.NewUser{Email: "bob@example.com", Password: adminPW}); err != nil {
		t.Fatal(err)
	}
	return af
}

// The last-admin rule: an admin may not disable or delete themselves nor
// revoke their own admin role; everything else is allowed, and the CLI
// (no user id) is never refused.
func TestAdminCannotLockThemselvesOut(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	self := af.admin.UserID
	other := auth.Actor{UserID: af.target.ID, Device: adminDevice}
	cli := auth.Actor{Device: auth.Device{UserAgent: "authd-cli"}}
	tests := []struct {
		name     string
		do       func() error
		conflict bool
	}{
		{"disable self", func() error { return af.svc.DisableUser(ctx, af.admin, self) }, true},
		{"delete self", func() error { return af.svc.DeleteUser(ctx, af.admin, self) }, true},
		{"revoke own admin role", func() error { return af.svc.RevokeRole(ctx, af.admin, self, "root") }, true},
		{"revoke own other role", func() error { return af.svc.RevokeRole(ctx, af.admin, self, "ops") }, false},
		{"grant self a role", func() error { return af.svc.GrantRole(ctx, af.admin, self, "ops") }, false},
		{"log self out", func() error { return af.svc.LogoutUser(ctx, af.admin, self) }, false},
		{"another user revokes the admin's role", func() error { return af.svc.RevokeRole(ctx, other, self, "root") }, false},
		{"the CLI grants it back", func() error { return af.svc.GrantRole(ctx, cli, self, "root") }, false},
		{"the CLI disables the admin", func() error { return af.svc.DisableUser(ctx, cli, self) }, false},
	}
	for _, tt := range tests {
		err := tt.do()
		if tt.conflict != errors.Is(err, auth.ErrConflict) || !tt.conflict && err != nil {
			t.Errorf("%s: %v, want conflict=%v", tt.name, err, tt.conflict)
		}
	}
	u, err := af.store.UserByID(ctx, self)
	if err != nil || !slices.Contains(u.Roles, "root") || !u.Disabled {
		t.Fatalf("admin after the table: roles %q disabled %v, %v", u.Roles, u.Disabled, err)
	}
}

// Every admin action records the actor, its device and the target; an
// unknown target is ErrNotFound and records nothing.
func TestAdminActionsAreAudited(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	id := af.target.ID
	tests := []struct {
		typ, detail string
		do          func(target string) error
	}{
		{auth.EventRoleChange, "grant:editor", func(u string) error { return af.svc.GrantRole(ctx, af.admin, u, "editor") }},
		{auth.EventRoleChange, "revoke:editor", func(u string) error { return af.svc.RevokeRole(ctx, af.admin, u, "editor") }},
		{auth.EventUserDisabled, "", func(u string) error { return af.svc.DisableUser(ctx, af.admin, u) }},
		{auth.EventUserEnabled, "", func(u string) error { return af.svc.EnableUser(ctx, af.admin, u) }},
		{auth.EventUserLogout, "", func(u string) error { return af.svc.LogoutUser(ctx, af.admin, u) }},
		{auth.EventUserDeleted, "", func(u string) error { return af.svc.DeleteUser(ctx, af.admin, u) }},
	}
	for _, tt := range tests {
		if err := tt.do("no-such-user"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("%s on an unknown user: %v, want ErrNotFound", tt.typ, err)
		}
		n := len(af.events.events)
		if err := tt.do(id); err != nil {
			t.Fatalf("%s: %v", tt.typ, err)
		}
		if len(af.events.events) != n+1 {
			t.Fatalf("%s recorded %d events", tt.typ, len(af.events.events)-n)
		}
		ev := af.events.last(t)
		want := auth.Event{At: ev.At, Type: tt.typ, Outcome: auth.OutcomeSuccess, UserID: id, ActorID: af.admin.UserID,
			IP: adminDevice.IP, UserAgent: adminDevice.UserAgent, Detail: tt.detail}
		if ev != want {
			t.Errorf("event\n got %+v\nwant %+v", ev, want)
		}
	}
	// Creating records user_created and a role_change per role.
	n := len(af.events.events)
	u, err := af.svc.CreateUser(ctx, af.admin, auth.NewUser{Email: "Carol@Example.com", Roles: []string{"b", "a", "b"}})
	if err != nil || u.Email != "carol@example.com" || !slices.Equal(u.Roles, []string{"a", "b"}) {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	var got []string
	for _, ev := range af.events.events[n:] {
		if ev.ActorID != af.admin.UserID || ev.UserID != u.ID || ev.IP != adminDevice.IP {
			t.Errorf("event %+v lacks the actor or target", ev)
		}
		got = append(got, ev.Type+":"+ev.Detail)
	}
	if want := []string{"user_created:invite", "role_change:grant:a", "role_change:grant:b"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestCreateUserRefusals(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		in   auth.NewUser
		kind error
	}{
		{"taken email, other case", auth.NewUser{Email: "BOB@example.com"}, auth.ErrEmailTaken},
		{"bad email", auth.NewUser{Email: "not an email"}, auth.ErrInvalidRequest},
		{"weak password", auth.NewUser{Email: "x@example.com", Password: "short"}, auth.ErrWeakPassword},
		{"bad role", auth.NewUser{Email: "x@example.com", Roles: []string{"viewer,admin"}}, auth.ErrInvalidRequest},
	}
	for _, tt := range tests {
		if _, err := af.svc.CreateUser(ctx, af.admin, tt.in); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	if _, err := af.store.UserByEmail(ctx, "x@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused create left a user: %v", err)
	}
}

// An account created without a password cannot be logged into until its
// owner follows the invitation, which works for InviteTTL (72h by
// default, far beyond a reset link's 30 minutes) and sets the password
// through the reset endpoint.
func TestInviteSetsThePassword(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	u, err := af.svc.CreateUser(ctx, af.admin, auth.NewUser{Email: "dora@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := af.store.UserByID(ctx, u.ID)
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "!") {
		t.Fatalf("stored hash %q, %v; want an unusable one", stored.PasswordHash, err)
	}
	for _, guess := range []string{"", stored.PasswordHash, strings.TrimPrefix(stored.PasswordHash, "!unusable:")} {
		if _, err := af.svc.Login(ctx, "dora@example.com", guess, auth.Device{}); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("login before the invite with %q: %v", guess, err)
		}
	}
	msg := af.mail.msgs[len(af.mail.msgs)-1]
	if msg.To != "dora@example.com" || !strings.Contains(msg.Subject, "invited") || !strings.Contains(msg.Text, "3 days") {
		t.Fatalf("invite mail to %q %q:\n%s", msg.To, msg.Subject, msg.Text)
	}
	tok := af.mail.resetToken(t)
	af.clock.Advance(71 * time.Hour)
	if err := af.svc.ResetPassword(ctx, tok, "dora's new passphrase", auth.Device{}); err != nil {
		t.Fatalf("following the invite after 71h: %v", err)
	}
	if _, err := af.svc.Login(ctx, "dora@example.com", "dora's new passphrase", auth.Device{}); err != nil {
		t.Fatalf("login after the invite: %v", err)
	}
	if err := af.svc.ResetPassword(ctx, tok, "another passphrase!", auth.Device{}); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("the invite link works twice: %v", err)
	}

	// An invite not followed within InviteTTL is dead.
	if _, err := af.svc.CreateUser(ctx, af.admin, auth.NewUser{Email: "eve@example.com"}); err != nil {
		t.Fatal(err)
	}
	tok = af.mail.resetToken(t)
	af.clock.Advance(72*time.Hour + time.Second)
	if err := af.svc.ResetPassword(ctx, tok, "eve's new passphrase", auth.Device{}); !errors.Is(err, auth.ErrInvalidOneTimeToken) {
		t.Fatalf("an expired invite: %v", err)
	}
}

// UserDetail counts live sessions and reports the last login; LogoutUser
// and DeleteUser end every session at once on the denylist too.
func TestUserDetailLogoutAndDelete(t *testing.T) {
	af := newAdminFixture(t)
	ctx := context.Background()
	d, err := af.svc.UserDetail(ctx, af.target.ID)
	if err != nil || d.Sessions != 0 || !d.User.LastLoginAt.IsZero() {
		t.Fatalf("before login: %+v, %v", d, err)
	}
	for range 2 {
		if _, err := af.svc.Login(ctx, "bob@example.com", adminPW, auth.Device{IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	d, err = af.svc.UserDetail(ctx, af.target.ID)
	if err != nil || d.Sessions != 2 || !d.User.LastLoginAt.Equal(af.clock.Now()) {
		t.Fatalf("after two logins: sessions %d last login %v (now %v), %v", d.Sessions, d.User.LastLoginAt, af.clock.Now(), err)
	}
	if err := af.svc.LogoutUser(ctx, af.admin, af.target.ID); err != nil {
		t.Fatal(err)
	}
	if d, err = af.svc.UserDetail(ctx, af.target.ID); err != nil || d.Sessions != 0 {
		t.Fatalf("after LogoutUser: %d sessions, %v", d.Sessions, err)
	}
	tk := denylist.Token{JTI: "j", Subject: af.target.ID, IssuedAt: af.clock.Now().Add(-time.Second)}
	if err := af.dl.Check(ctx, tk); !errors.Is(err, denylist.ErrRevoked) {
		t.Fatalf("a token issued before LogoutUser: %v, want revoked", err)
	}

	af.clock.Advance(2 * time.Second)
	if _, err := af.svc.Login(ctx, "bob@example.com", adminPW, auth.Device{}); err != nil {
		t.Fatal(err)
	}
	if err := af.svc.DeleteUser(ctx, af.admin, af.target.ID); err != nil {
		t.Fatal(err)
	}
	// Even a token issued in the deletion's own second (a login racing
	// it) is refused: the id is never reused.
	for _, at := range []time.Time{af.clock.Now().Add(-time.Second), af.clock.Now()} {
		tk.IssuedAt = at
		if err := af.dl.Check(ctx, tk); !errors.Is(err, denylist.ErrRevoked) {
			t.Fatalf("a token issued at %v, deleted at %v: %v, want revoked", at, af.clock.Now(), err)
		}
	}
	if _, err := af.svc.UserDetail(ctx, af.target.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("UserDetail of a deleted user: %v", err)
	}
	if _, err := af.svc.Login(ctx, "bob@example.com", adminPW, auth.Device{}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("login of a deleted user: %v", err)
	}
	if err := af.svc.DeleteUser(ctx, af.admin, af.target.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestAuditEventsPages(t *testing.T) {
	f := newFixture(t, denylist.NewMemory(), 4)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var events []store.AuditEvent
	for i := range 12 {
		user := "u1"
		if i%3 == 0 {
			user = "u2"
		}
		events = append(events, store.AuditEvent{At: at.Add(time.Duration(i) * time.Minute), Type: []string{"login", "logout"}[i%2],
			Outcome: "success", UserID: user, Detail: fmt.Sprint(i)})
	}
	if err := f.store.AppendAuditEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	all := func(filter auth.AuditFilter) []string {
		var out []string
		for {
			page, err := f.svc.AuditEvents(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				out = append(out, e.Detail)
			}
			if page.NextCursor == "" {
				return out
			}
			filter.Cursor = page.NextCursor
		}
	}
	tests := []struct {
		name   string
		filter auth.AuditFilter
		want   string
	}{
		{"all, newest first", auth.AuditFilter{Limit: 5}, "11 10 9 8 7 6 5 4 3 2 1 0"},
		{"one user", auth.AuditFilter{Limit: 2, UserID: "u2"}, "9 6 3 0"},
		{"one type", auth.AuditFilter{Limit: 4, Type: "logout"}, "11 9 7 5 3 1"},
		{"since", auth.AuditFilter{Limit: 1, Since: at.Add(9 * time.Minute)}, "11 10 9"},
		{"all filters", auth.AuditFilter{UserID: "u1", Type: "login", Since: at.Add(3 * time.Minute)}, "10 8 4"},
	}
	for _, tt := range tests {
		if got := strings.Join(all(tt.filter), " "); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	for _, bad := range []auth.AuditFilter{{Limit: 201}, {Cursor: "eyJiIjowfQ"}, {Cursor: "x"}, {UserID: strings.Repeat("u", 129)}} {
		if _, err := f.svc.AuditEvents(ctx, bad); !errors.Is(err, auth.ErrInvalidRequest) {
			t.Errorf("AuditEvents(%+v) = %v, want ErrInvalidRequest", bad, err)
		}
	}
}
