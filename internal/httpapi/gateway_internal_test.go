package httpapi

import "testing"

func TestHeaderRoles(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		want  string
	}{
		{"none", nil, ""},
		{"valid", []string{"admin", "billing:read"}, "admin,billing:read"},
		{"a comma never splits into another role", []string{"viewer,admin"}, ""},
		{"bad names dropped, valid kept", []string{"editor", "viewer,admin", "admin\x00", "Admin", "x\r\ny: z"}, "editor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := headerRoles(tt.roles); got != tt.want {
				t.Fatalf("headerRoles(%q) = %q, want %q", tt.roles, got, tt.want)
			}
		})
	}
}
