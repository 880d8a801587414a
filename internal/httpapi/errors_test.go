package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"github.com/gin-gonic/gin"
)

// TestWriteErrorDependencyOutage pins the mapping of errors to answers: an
// outage of the store or the denylist is 503 temporarily_unavailable with
// Retry-After wherever it sits in the chain, counted once for the store; a
// genuine bug stays a 500.
func TestWriteErrorDependencyOutage(t *testing.T) {
	storeDown := fmt.Errorf("sqlstore: get user: %w: dial tcp: connection refused", store.ErrUnavailable)
	cases := []struct {
		name       string
		err        error
		status     int
		code, desc string
		storeCount int
		internal   int
	}{
		{"raw store outage", storeDown, 503, "temporarily_unavailable", "the service is temporarily unavailable; retry later", 1, 0},
		{"service error carrying a store outage", &auth.Error{Kind: auth.ErrInvalidGrant, Description: "x", Cause: storeDown},
			503, "temporarily_unavailable", "the service is temporarily unavailable; retry later", 1, 0},
		{"service's own 503 keeps its description", &auth.Error{Kind: auth.ErrUnavailable, Description: "logout could not be recorded; retry", Cause: storeDown},
			503, "temporarily_unavailable", "logout could not be recorded; retry", 1, 0},
		{"denylist outage", fmt.Errorf("revoke: %w", denylist.ErrUnavailable), 503, "temporarily_unavailable",
			"the service is temporarily unavailable; retry later", 0, 0},
		{"a bug", errors.New(`pq: syntax error at or near "SELEC"`), 500, "server_error", "internal error", 0, 1},
	}
	gin.SetMode(gin.ReleaseMode)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var storeCount, internal int
			a := &API{log: slog.New(slog.DiscardHandler), cfg: Config{
				OnStoreUnavailable: func() { storeCount++ },
				OnInternalError:    func() { internal++ },
			}}
			rec := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(rec)
			ctx.Request = httptest.NewRequest("POST", "/v1/login", nil)
			a.writeError(ctx, c.err)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["error"] != c.code || body["error_description"] != c.desc {
				t.Errorf("body %v, want %s / %s", body, c.code, c.desc)
			}
			if ra := rec.Header().Get("Retry-After"); (c.status == http.StatusServiceUnavailable) != (ra != "") {
				t.Errorf("Retry-After %q for status %d", ra, c.status)
			}
			if storeCount != c.storeCount || internal != c.internal {
				t.Errorf("counted store=%d internal=%d, want %d and %d", storeCount, internal, c.storeCount, c.internal)
			}
		})
	}
}

// TestWriteErrorMFA pins the second-factor answers: mfa_required and
// mfa_enrollment_required are 403 with the token members beside the error
// ones (mfa_methods only when there are methods), uncacheable; a wrong
// code is 400 invalid_code with the plain error body.
func TestWriteErrorMFA(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	cases := []struct {
		name   string
		err    error
		status int
		want   map[string]any
	}{
		{"mfa_required", &auth.Error{Kind: auth.ErrMFARequired, Description: "d",
			MFA: &auth.MFAChallengeInfo{Token: "tok", Methods: []string{"totp", "recovery_code"}, ExpiresIn: 300e9}},
			403, map[string]any{"error": "mfa_required", "error_description": "d", "mfa_token": "tok",
				"mfa_methods": []any{"totp", "recovery_code"}, "expires_in": 300.0}},
		{"mfa_enrollment_required", &auth.Error{Kind: auth.ErrMFAEnrollmentRequired, Description: "e",
			MFA: &auth.MFAChallengeInfo{Token: "enr", ExpiresIn: 60e9}},
			403, map[string]any{"error": "mfa_enrollment_required", "error_description": "e", "mfa_token": "enr", "expires_in": 60.0}},
		{"invalid_code", &auth.Error{Kind: auth.ErrInvalidCode, Description: "c"},
			400, map[string]any{"error": "invalid_code", "error_description": "c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &API{log: slog.New(slog.DiscardHandler)}
			rec := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(rec)
			ctx.Request = httptest.NewRequest("POST", "/v1/login", nil)
			a.writeError(ctx, c.err)
			if rec.Code != c.status || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(body) != fmt.Sprint(c.want) {
				t.Errorf("body %v, want %v", body, c.want)
			}
		})
	}
}
