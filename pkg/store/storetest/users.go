package storetest

import (
	"slices"
	"testing"

	"github.com/authd/authd/pkg/store"
)

func testCreateAndReadUser(t *testing.T, s Store) {
	ctx := ctxT(t)
	want := store.User{
		ID:            "u1",
		Email:         "alice@example.com",
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		EmailVerified: true,
		Disabled:      true,
		Roles:         []string{"admin", "auditor"},
		CreatedAt:     base(),
		UpdatedAt:     base().Add(1500),
	}
	got, err := s.CreateUser(ctx, store.User{
		ID: want.ID, Email: "  Alice@Example.COM ", PasswordHash: want.PasswordHash,
		EmailVerified: true, Disabled: true, Roles: []string{"auditor", "admin", "auditor"},
		CreatedAt: want.CreatedAt, UpdatedAt: want.UpdatedAt,
	})
	wantErr(t, "CreateUser", err, nil)
	// UpdatedAt has sub-microsecond noise (1500ns); backends keep microseconds.
	want.UpdatedAt = base().Add(1000)
	same(t, "CreateUser result", got, want)

	lookups := []struct {
		name string
		get  func() (store.User, error)
	}{
		{"UserByID", func() (store.User, error) { return s.UserByID(ctx, "u1") }},
		{"UserByEmail", func() (store.User, error) { return s.UserByEmail(ctx, "alice@example.com") }},
		{"UserByEmailUnnormalised", func() (store.User, error) { return s.UserByEmail(ctx, " ALICE@example.com") }},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			u, err := l.get()
			wantErr(t, l.name, err, nil)
			same(t, l.name, u, want)
		})
	}
}

func testUserDefaults(t *testing.T, s Store) {
	ctx := ctxT(t)
	got, err := s.CreateUser(ctx, store.User{ID: "u1", Email: "bob@example.com", PasswordHash: "h"})
	wantErr(t, "CreateUser", err, nil)
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("CreatedAt/UpdatedAt not set: %+v", got)
	}
	if got.Roles == nil || len(got.Roles) != 0 {
		t.Errorf("Roles = %#v, want empty non-nil", got.Roles)
	}
	read, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID", err, nil)
	same(t, "UserByID", read, got)
	if read.Roles == nil {
		t.Errorf("UserByID Roles is nil, want empty")
	}
}

func testUserUniqueness(t *testing.T, s Store) {
	newUser(t, s, "u1")
	cases := []struct {
		name string
		user store.User
	}{
		{"same email", store.User{ID: "u2", Email: "u1@example.com", PasswordHash: "h"}},
		{"same email other case", store.User{ID: "u3", Email: "U1@Example.com", PasswordHash: "h"}},
		{"same id", store.User{ID: "u1", Email: "other@example.com", PasswordHash: "h"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CreateUser(ctxT(t), c.user)
			wantErr(t, "CreateUser", err, store.ErrAlreadyExists)
		})
	}
	// A failed create must leave nothing behind.
	if _, err := s.UserByID(ctxT(t), "u2"); !isNotFound(err) {
		t.Errorf("UserByID(u2) after failed create: %v, want ErrNotFound", err)
	}
}

func testUserNotFound(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	cases := []struct {
		name string
		call func() error
	}{
		{"UserByID", func() error { _, err := s.UserByID(ctx, "nobody"); return err }},
		{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, "nobody@example.com"); return err }},
		{"UpdatePasswordHash", func() error { return s.UpdatePasswordHash(ctx, "nobody", "h") }},
		{"GrantRole", func() error { return s.GrantRole(ctx, "nobody", "admin") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, c.call(), store.ErrNotFound) })
	}
}

func testRoles(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	newUser(t, s, "u2", "viewer")
	steps := []struct {
		name  string
		do    func() error
		roles []string
	}{
		{"grant", func() error { return s.GrantRole(ctx, "u1", "writer") }, []string{"writer"}},
		{"grant again", func() error { return s.GrantRole(ctx, "u1", "writer") }, []string{"writer"}},
		{"grant sorts", func() error { return s.GrantRole(ctx, "u1", "admin") }, []string{"admin", "writer"}},
		{"revoke", func() error { return s.RevokeRole(ctx, "u1", "writer") }, []string{"admin"}},
		{"revoke again", func() error { return s.RevokeRole(ctx, "u1", "writer") }, []string{"admin"}},
		{"revoke never granted", func() error { return s.RevokeRole(ctx, "u1", "ghost") }, []string{"admin"}},
		{"revoke last", func() error { return s.RevokeRole(ctx, "u1", "admin") }, []string{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, st.name, st.do(), nil)
			byID, err := s.UserByID(ctx, "u1")
			wantErr(t, "UserByID", err, nil)
			byEmail, err := s.UserByEmail(ctx, "u1@example.com")
			wantErr(t, "UserByEmail", err, nil)
			for _, got := range [][]string{byID.Roles, byEmail.Roles} {
				if got == nil || !slices.Equal(got, st.roles) {
					t.Errorf("roles = %#v, want %#v", got, st.roles)
				}
			}
		})
	}
	other, err := s.UserByID(ctx, "u2")
	wantErr(t, "UserByID(u2)", err, nil)
	if !slices.Equal(other.Roles, []string{"viewer"}) {
		t.Errorf("u2 roles = %v, want [viewer]: another user's grants leaked", other.Roles)
	}
}

func testUpdatePasswordHash(t *testing.T, s Store) {
	ctx := ctxT(t)
	before := newUser(t, s, "u1")
	newUser(t, s, "u2")
	wantErr(t, "UpdatePasswordHash", s.UpdatePasswordHash(ctx, "u1", "new-hash"), nil)
	got, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID", err, nil)
	if got.PasswordHash != "new-hash" {
		t.Errorf("PasswordHash = %q, want new-hash", got.PasswordHash)
	}
	if !got.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("CreatedAt changed: %v -> %v", before.CreatedAt, got.CreatedAt)
	}
	if other, _ := s.UserByID(ctx, "u2"); other.PasswordHash != "hash-u2" {
		t.Errorf("u2 PasswordHash = %q: update leaked to another user", other.PasswordHash)
	}
}

func testSetUserDisabled(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1")
	wantErr(t, "disable", s.SetUserDisabled(ctx, "u1", true), nil)
	u, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID", err, nil)
	if !u.Disabled {
		t.Fatal("user not disabled")
	}
	wantErr(t, "enable", s.SetUserDisabled(ctx, "u1", false), nil)
	if u, _ := s.UserByEmail(ctx, u.Email); u.Disabled {
		t.Fatal("user still disabled")
	}
	wantErr(t, "unknown user", s.SetUserDisabled(ctx, "nobody", true), store.ErrNotFound)
}
