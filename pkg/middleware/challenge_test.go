package middleware_test

import (
	"testing"

	"github.com/authd/authd/pkg/middleware"
)

func TestInvalidTokenChallenge(t *testing.T) {
	tests := []struct {
		name, desc, want string
	}{
		{"description", "the token is invalid or expired", `Bearer error="invalid_token", error_description="the token is invalid or expired"`},
		{"empty", "", `Bearer error="invalid_token"`},
		{"quote left out", `bad "token"`, `Bearer error="invalid_token"`},
		{"backslash left out", `a\b`, `Bearer error="invalid_token"`},
		{"control left out", "a\nb", `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := middleware.InvalidTokenChallenge(tt.desc); got != tt.want {
				t.Fatalf("InvalidTokenChallenge(%q) = %q, want %q", tt.desc, got, tt.want)
			}
		})
	}
}
