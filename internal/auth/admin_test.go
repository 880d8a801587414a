package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
)

// GrantRole takes only names of the one role grammar; RevokeRole takes any
// name, so that roles stored unchecked by older releases can be removed.
func TestRoleChangesValidateNames(t *testing.T) {
	f := newFixture(t, denylist.NewMemory(), 10)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "r@example.com", "correct horse battery", auth.Device{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role string
		ok   bool
	}{
		{"admin", true},
		{"billing:read", true},
		{"team-a.editor_1", true},
		{"viewer,admin", false},
		{"admin\x00", false},
		{"Admin", false},
		{"a;b", false},
		{"ädmin", false},
		{"-x", false},
		{"", false},
	}
	for _, tt := range tests {
		err := f.svc.GrantRole(ctx, auth.Actor{}, u.ID, tt.role)
		if tt.ok != (err == nil) || !tt.ok && !errors.Is(err, auth.ErrInvalidRequest) {
			t.Errorf("GrantRole(%q) = %v, want ok=%v", tt.role, err, tt.ok)
		}
	}
	got, err := f.store.UserByID(ctx, u.ID)
	if err != nil || !slices.Equal(got.Roles, []string{"admin", "billing:read", "team-a.editor_1"}) {
		t.Fatalf("roles = %q, %v", got.Roles, err)
	}
	if err := f.svc.RevokeRole(ctx, auth.Actor{}, u.ID, "viewer,admin"); err != nil {
		t.Fatalf("revoking a name outside the grammar: %v", err)
	}
	if err := f.svc.RevokeRole(ctx, auth.Actor{}, u.ID, ""); !errors.Is(err, auth.ErrInvalidRequest) {
		t.Fatalf("RevokeRole(\"\") = %v", err)
	}
}

// An import under the A-label spelling of an account stored with its
// Unicode spelling by an earlier release is refused as taken, not created
// as a second account for the same mailbox.
func TestImportUserSeesOlderSpelling(t *testing.T) {
	f, hash := withUnicodeDomainUser(t)
	ctx := context.Background()
	_, err := f.svc.ImportUser(ctx, auth.ImportedUser{Email: "ann@xn--exmple-cua.com", PasswordHash: hash}, auth.Device{})
	if !errors.Is(err, auth.ErrEmailTaken) {
		t.Fatalf("ImportUser = %v, want ErrEmailTaken", err)
	}
	res, err := f.svc.ImportUser(ctx, auth.ImportedUser{Email: "Bo@Bücher.example", PasswordHash: hash, Roles: []string{"b", "a", "b"}}, auth.Device{})
	if err != nil || res.User.Email != "bo@xn--bcher-kva.example" || !slices.Equal(res.User.Roles, []string{"a", "b"}) || res.LowCost {
		t.Fatalf("ImportUser = %+v, %v", res, err)
	}
}
