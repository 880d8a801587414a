package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/store"
)

func TestValidateRole(t *testing.T) {
	tests := []struct {
		name, role string
		ok         bool
	}{
		{"plain", "admin", true},
		{"digits", "2fa", true},
		{"namespaced", "billing:read", true},
		{"dotted and dashed", "team-a.editor_1", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"comma smuggles a second role", "viewer,admin", false},
		{"NUL", "admin\x00", false},
		{"header injection", "x\r\nSet-Cookie: y", false},
		{"space", "a b", false},
		{"upper case", "Admin", false},
		{"leading dash", "-admin", false},
		{"leading colon", ":admin", false},
		{"semicolon", "a;b", false},
		{"non-ASCII", "ädmin", false},
		{"fullwidth letter", "ａdmin", false},
		{"DEL", "admin\x7f", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.ValidateRole(tt.role)
			if tt.ok && err != nil {
				t.Fatalf("ValidateRole(%q) = %v, want nil", tt.role, err)
			}
			if !tt.ok && !errors.Is(err, store.ErrInvalidRole) {
				t.Fatalf("ValidateRole(%q) = %v, want ErrInvalidRole", tt.role, err)
			}
			if err != nil && tt.role != "" && strings.Contains(err.Error(), tt.role) {
				t.Fatalf("the error quotes the role: %v", err)
			}
		})
	}
}

func FuzzValidateRole(f *testing.F) {
	for _, s := range []string{"admin", "viewer,admin", "a\x00", "billing:read", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, role string) {
		if store.ValidateRole(role) != nil {
			return
		}
		if len(role) == 0 || len(role) > store.MaxRoleLength || strings.ContainsAny(role, ", \t\r\n\x00;") || strings.ToLower(role) != role {
			t.Fatalf("ValidateRole accepted %q", role)
		}
		for _, r := range role {
			if r > 0x7e || r < 0x21 {
				t.Fatalf("ValidateRole accepted %q", role)
			}
		}
	})
}
