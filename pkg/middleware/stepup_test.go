package middleware_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
)

// TestStepUpGuards checks the RFC 9470 challenges of AuthMethods and
// FreshAuth: 401 insufficient_user_authentication with acr_values or
// max_age, never the 403 of a missing role or scope.
func TestStepUpGuards(t *testing.T) {
	now := time.Now()
	pwd := &middleware.Claims{Subject: "user-1", AMR: []string{"pwd"}, AuthTime: now.Add(-10 * time.Minute)}
	mfa := &middleware.Claims{Subject: "user-1", AMR: []string{"pwd", "otp"}, AuthTime: now.Add(-time.Minute)}
	client := &middleware.Claims{Subject: "svc", ClientID: "svc"}
	tests := []struct {
		name      string
		claims    *middleware.Claims
		guard     func(http.Handler) http.Handler
		status    int
		challenge string
	}{
		{"second factor present", mfa, middleware.RequireAMR("otp"), 200, ""},
		{"password only", pwd, middleware.RequireAMR("otp"), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="otp"`},
		{"every method required", mfa, middleware.RequireAMR("otp", "hwk"), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="otp hwk"`},
		{"no amr at all", client, middleware.RequireAMR("pwd"), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="pwd"`},
		{"no method listed fails closed", mfa, middleware.RequireAMR(), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required"`},
		{"fresh enough", mfa, middleware.RequireFreshAuth(5 * time.Minute), 200, ""},
		{"too old", pwd, middleware.RequireFreshAuth(5 * time.Minute), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", max_age="300"`},
		{"no auth_time", client, middleware.RequireFreshAuth(time.Hour), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", max_age="3600"`},
		{"zero max age fails closed", mfa, middleware.RequireFreshAuth(0), 401,
			`Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required"`},
		{"no claims: Handler did not run", nil, middleware.RequireAMR("otp"), 401, "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, withClaims(tt.claims, tt.guard(whoami)), "")
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.status, tt.status, resp.raw)
			}
			if got := resp.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Fatalf("WWW-Authenticate = %q\nwant %q", got, tt.challenge)
			}
			if tt.status == 401 && tt.claims != nil && resp.body["error"] != "insufficient_user_authentication" {
				t.Fatalf("body = %v", resp.body)
			}
		})
	}
}

func TestStepUpErrorMatchesItsSentinel(t *testing.T) {
	c := &middleware.Claims{AMR: []string{"pwd"}, Roles: []string{"admin"}}
	err := middleware.AuthMethods("otp").Check(c)
	if !errors.Is(err, middleware.ErrInsufficientAuthentication) || errors.Is(err, middleware.ErrInsufficientScope) {
		t.Fatalf("AuthMethods: err = %v, want ErrInsufficientAuthentication only", err)
	}
	err = middleware.AllRoles("root").Check(c)
	if errors.Is(err, middleware.ErrInsufficientAuthentication) || !errors.Is(err, middleware.ErrInsufficientScope) {
		t.Fatalf("AllRoles: err = %v, want ErrInsufficientScope only", err)
	}
	if got := middleware.FreshAuth(90 * time.Second).String(); got != "authentication within 1m30s" {
		t.Fatalf("String() = %q", got)
	}
}
