package storetest

import (
	"slices"
	"testing"

	"github.com/authd/authd/pkg/store"
)

// testInvalidRoles checks that the store itself refuses role names outside
// store.ValidateRole's grammar, whichever caller forgot to check, and
// writes nothing when it does.
func testInvalidRoles(t *testing.T, s Store) {
	ctx := ctxT(t)
	newUser(t, s, "u1", "viewer")
	for _, role := range []string{"viewer,admin", "admin\x00", "Admin", "a b", "", "x\r\nSet-Cookie: y"} {
		t.Run("GrantRole "+role, func(t *testing.T) {
			wantErr(t, "GrantRole", s.GrantRole(ctx, "u1", role), store.ErrInvalidRole)
		})
		t.Run("CreateUser "+role, func(t *testing.T) {
			if role == "" {
				// An empty name is no role at all: CreateUser drops it (as it
				// drops duplicates) rather than refusing the user.
				u, err := s.CreateUser(ctx, store.User{ID: "u3", Email: "u3@example.com", PasswordHash: "h", Roles: []string{"viewer", role}})
				wantErr(t, "CreateUser", err, nil)
				if !slices.Equal(u.Roles, []string{"viewer"}) {
					t.Fatalf("roles = %q, want [viewer]", u.Roles)
				}
				return
			}
			_, err := s.CreateUser(ctx, store.User{ID: "u2", Email: "u2@example.com", PasswordHash: "h", Roles: []string{"viewer", role}})
			wantErr(t, "CreateUser", err, store.ErrInvalidRole)
			if _, err := s.UserByID(ctx, "u2"); !isNotFound(err) {
				t.Fatalf("UserByID(u2) after a refused create: %v, want ErrNotFound", err)
			}
		})
	}
	u, err := s.UserByID(ctx, "u1")
	wantErr(t, "UserByID", err, nil)
	if !slices.Equal(u.Roles, []string{"viewer"}) {
		t.Fatalf("roles = %q after refused grants, want [viewer]", u.Roles)
	}
}
