package middleware_test

import (
	"testing"

	"github.com/authd/authd/pkg/middleware"
)

func TestClaimsIsClient(t *testing.T) {
	tests := []struct {
		name string
		c    *middleware.Claims
		want bool
	}{
		{"service client", &middleware.Claims{Subject: "svc_a", ClientID: "svc_a"}, true},
		{"user", &middleware.Claims{Subject: "0b7c…", ClientID: "authd", SessionID: "s1"}, false},
		{"user of a client named like them", &middleware.Claims{Subject: "u", ClientID: "u", SessionID: "s1"}, false},
		{"no session, other client_id", &middleware.Claims{Subject: "u", ClientID: "authd"}, false},
		{"no client_id", &middleware.Claims{Subject: "u"}, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.IsClient(); got != tt.want {
				t.Fatalf("IsClient() = %v, want %v", got, tt.want)
			}
		})
	}
}
