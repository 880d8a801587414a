package httpapi

import (
	"slices"
	"testing"
)

func TestGatewayRoles(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		want  []string
	}{
		{"none", nil, []string{}},
		{"valid", []string{"admin", "billing:read"}, []string{"admin", "billing:read"}},
		{"a comma never splits into another role", []string{"viewer,admin"}, []string{}},
		{"bad names dropped, valid kept", []string{"editor", "viewer,admin", "admin\x00", "Admin", "x\r\ny: z"}, []string{"editor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gatewayRoles(tt.roles)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("gatewayRoles(%q) = %#v, want %q", tt.roles, got, tt.want)
			}
		})
	}
}
