package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

// The handlers are tested alone, against fakeService: a stand-in for the
// httpapi.Service contract that answers what a case says and records what
// the handler passed. Only the methods a case uses are implemented; any
// other call panics on the nil embedded interface, which the API's
// recovery turns into a 500 the case would see.
type fakeService struct {
	httpapi.Service

	login  func(email, pw string, d auth.Device) (*auth.Tokens, error)
	logout func(c auth.Caller, scope auth.LogoutScope) error
}

func (f *fakeService) Login(_ context.Context, email, pw string, d auth.Device) (*auth.Tokens, error) {
	return f.login(email, pw, d)
}

func (f *fakeService) Logout(_ context.Context, c auth.Caller, scope auth.LogoutScope) error {
	return f.logout(c, scope)
}

const (
	testIssuer   = "https://auth.example"
	testAudience = "api"
)

// newAPI serves the API on svc, verifying access tokens signed by key.
func newAPI(t *testing.T, svc httpapi.Service, key *token.Key) http.Handler {
	t.Helper()
	ks, err := token.NewStaticKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := middleware.NewVerifier(middleware.WithIssuer(testIssuer), middleware.WithAudience(testAudience), middleware.WithKeySet(ks))
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.New(httpapi.Config{Issuer: testIssuer}, svc, v, nil, nil)
}

func testKey(t *testing.T) *token.Key {
	t.Helper()
	k, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// errorBody is the JSON error every failure answers.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func TestLoginHandler(t *testing.T) {
	ok := &auth.Tokens{AccessToken: "a.b.c", AccessExpiresIn: 15 * time.Minute, RefreshToken: "r.s.t", RefreshExpiresIn: time.Hour}
	for _, tc := range []struct {
		name       string
		body       string
		answer     error
		wantStatus int
		wantCode   string // error code; empty for success
		wantRetry  string // Retry-After header
		wantCalled bool
	}{
		{name: "success", body: `{"email":"a@example.com","password":"pw"}`, wantStatus: 200, wantCalled: true},
		{name: "wrong credentials", body: `{"email":"a@example.com","password":"pw"}`,
			answer: &auth.Error{Kind: auth.ErrInvalidCredentials, Description: "the email or password is incorrect"}, wantStatus: 401, wantCode: "invalid_credentials", wantCalled: true},
		{name: "rate limited", body: `{"email":"a@example.com","password":"pw"}`,
			answer: &auth.Error{Kind: auth.ErrRateLimited, Description: "too many attempts; retry later", RetryAfter: 7 * time.Second}, wantStatus: 429, wantCode: "rate_limited", wantRetry: "7", wantCalled: true},
		{name: "unavailable", body: `{"email":"a@example.com","password":"pw"}`,
			answer: &auth.Error{Kind: auth.ErrUnavailable, Description: "the server is busy; retry shortly", RetryAfter: time.Second}, wantStatus: 503, wantCode: "temporarily_unavailable", wantRetry: "1", wantCalled: true},
		{name: "an internal failure says nothing of itself", body: `{"email":"a@example.com","password":"pw"}`,
			answer: errors.New("pq: connection refused to 10.0.0.5"), wantStatus: 500, wantCode: "server_error", wantCalled: true},
		{name: "missing password never reaches the service", body: `{"email":"a@example.com"}`, wantStatus: 400, wantCode: "invalid_request"},
		{name: "malformed JSON never reaches the service", body: `{"email":`, wantStatus: 400, wantCode: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			svc := &fakeService{login: func(email, pw string, d auth.Device) (*auth.Tokens, error) {
				called = true
				if email != "a@example.com" || pw != "pw" || d.IP == "" {
					t.Errorf("service got email %q, password %q, device %+v", email, pw, d)
				}
				if tc.answer != nil {
					return nil, tc.answer
				}
				return ok, nil
			}}
			req := httptest.NewRequest(http.MethodPost, "/v1/login", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			newAPI(t, svc, testKey(t)).ServeHTTP(rec, req)
			if called != tc.wantCalled {
				t.Fatalf("service called = %v, want %v", called, tc.wantCalled)
			}
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tc.wantRetry)
			}
			if tc.wantCode == "" {
				var got struct {
					AccessToken  string `json:"access_token"`
					TokenType    string `json:"token_type"`
					ExpiresIn    int64  `json:"expires_in"`
					RefreshToken string `json:"refresh_token"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.AccessToken != ok.AccessToken || got.RefreshToken != ok.RefreshToken || got.TokenType != "Bearer" || got.ExpiresIn != 900 {
					t.Fatalf("tokens = %+v", got)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", cc)
				}
				return
			}
			var got errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if got.Error != tc.wantCode || got.Description == "" {
				t.Fatalf("error body = %+v, want code %q and a description", got, tc.wantCode)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.5") {
				t.Fatalf("internal detail reached the client: %s", rec.Body)
			}
		})
	}
}

// The logout handler hands the service the caller of the verified token
// and the scope from the query or the body.
func TestLogoutHandler(t *testing.T) {
	key := testKey(t)
	now := time.Now()
	exp := now.Add(10 * time.Minute).Truncate(time.Second)
	access, err := token.Sign(key, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: testIssuer, Subject: "user-1", Audience: token.ClaimStrings{testAudience}, ID: "jti-1",
			IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(exp),
		},
		SessionID: "sid-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query, body string
		bearer            string
		wantStatus        int
		wantScope         auth.LogoutScope // empty: the service is not called
	}{
		{name: "default scope", bearer: access, wantStatus: 204, wantScope: auth.LogoutLocal},
		{name: "scope in the query", query: "?scope=global", bearer: access, wantStatus: 204, wantScope: auth.LogoutGlobal},
		{name: "scope in the body", body: `{"scope":"others"}`, bearer: access, wantStatus: 204, wantScope: auth.LogoutOthers},
		{name: "query and body disagree", query: "?scope=global", body: `{"scope":"others"}`, bearer: access, wantStatus: 400},
		{name: "unknown scope", query: "?scope=everything", bearer: access, wantStatus: 400},
		{name: "no token", wantStatus: 401},
		{name: "a forged token", bearer: access[:len(access)-4] + "AAAA", wantStatus: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotScope auth.LogoutScope
			svc := &fakeService{logout: func(c auth.Caller, scope auth.LogoutScope) error {
				gotScope = scope
				if c.UserID != "user-1" || c.SessionID != "sid-1" || c.TokenID != "jti-1" || !c.ExpiresAt.Equal(exp) {
					t.Errorf("caller = %+v", c)
				}
				return nil
			}}
			req := httptest.NewRequest(http.MethodPost, "/v1/logout"+tc.query, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			rec := httptest.NewRecorder()
			newAPI(t, svc, key).ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if gotScope != tc.wantScope {
				t.Fatalf("service got scope %q, want %q", gotScope, tc.wantScope)
			}
		})
	}
}
