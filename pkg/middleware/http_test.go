package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   string
		err    error
	}{
		{"absent", nil, "", middleware.ErrNoToken},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"scheme case", []string{"bEaReR abc"}, "abc", nil},
		{"extra spaces", []string{"Bearer    abc"}, "abc", nil},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "", middleware.ErrMalformedHeader},
		{"no token", []string{"Bearer "}, "", middleware.ErrMalformedHeader},
		{"scheme only", []string{"Bearer"}, "", middleware.ErrMalformedHeader},
		{"two tokens", []string{"Bearer a b"}, "", middleware.ErrMalformedHeader},
		{"tab", []string{"Bearer a\tb"}, "", middleware.ErrMalformedHeader},
		{"too long", []string{"Bearer " + strings.Repeat("a", 9000)}, "", middleware.ErrMalformedHeader},
		{"two headers", []string{"Bearer abc", "Bearer def"}, "", middleware.ErrRepeatedHeader},
		{"two equal headers", []string{"Bearer abc", "Bearer abc"}, "", middleware.ErrRepeatedHeader},
		{"empty, then a token", []string{"", "Bearer abc"}, "", middleware.ErrRepeatedHeader},
		{"bearer, then basic", []string{"Bearer abc", "Basic dXNlcjpwYXNz"}, "", middleware.ErrRepeatedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			got, err := middleware.BearerToken(r)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("BearerToken = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// response is a recorded answer with its decoded JSON body.
type response struct {
	status int
	header http.Header
	body   map[string]string
	raw    string
}

func serve(t *testing.T, h http.Handler, bearer string) response {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if bearer != "" {
		r.Header.Set("Authorization", bearer)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if w.Code >= 400 {
		if err := json.Unmarshal(w.Body.Bytes(), &resp.body); err != nil {
			t.Fatalf("error body is not JSON: %v: %s", err, w.Body)
		}
		if resp.body["error_description"] == "" || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("error response incomplete: %v %s", w.Header(), w.Body)
		}
	}
	return resp
}

// whoami answers the subject of the claims in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := middleware.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, c.Subject)
})

// unavailableKeys is a key set that never answers.
type unavailableKeys struct{}

func (unavailableKeys) VerificationKey(context.Context, string) (*token.Key, error) {
	return nil, token.ErrKeySetUnavailable
}

func TestHandler(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	v := staticVerifier(t, token.StaticKeySet{k})
	down := staticVerifier(t, unavailableKeys{})
	good := "Bearer " + mint(t, k, time.Now(), nil)
	tests := []struct {
		name      string
		v         *middleware.Verifier
		bearer    string
		status    int
		code      string
		challenge string
	}{
		{"valid", v, good, 200, "", ""},
		{"no token", v, "", 401, "invalid_request", "Bearer"},
		{"other scheme", v, "Basic dXNlcjpwYXNz", 401, "invalid_token", `Bearer error="invalid_token"`},
		{"expired", v, "Bearer " + mint(t, k, time.Now().Add(-time.Hour), nil), 401, "invalid_token", `Bearer error="invalid_token"`},
		{"garbage", v, "Bearer x.y.z", 401, "invalid_token", `Bearer error="invalid_token"`},
		{"keys unavailable", down, good, 503, "temporarily_unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, tt.v.Handler(whoami), tt.bearer)
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.status, tt.status, resp.raw)
			}
			if tt.status == 200 {
				if resp.raw != "user-1" {
					t.Fatalf("body = %q", resp.raw)
				}
				return
			}
			if resp.body["error"] != tt.code {
				t.Fatalf("error = %q, want %q", resp.body["error"], tt.code)
			}
			if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, tt.challenge) || (tt.challenge == "") != (got == "") {
				t.Fatalf("WWW-Authenticate = %q, want prefix %q", got, tt.challenge)
			}
			if tt.status == 503 && resp.header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}

// TestHandlerRepeatedAuthorization sends two Authorization headers, each
// with a valid token: the request is malformed, 400 invalid_request, and
// the handler is not reached.
func TestHandlerRepeatedAuthorization(t *testing.T) {
	k := testKey(t, token.ES256, 0)
	v := staticVerifier(t, token.StaticKeySet{k})
	good := "Bearer " + mint(t, k, time.Now(), nil)
	for _, second := range []string{good, "Bearer " + mint(t, k, time.Now(), nil), "Basic dXNlcjpwYXNz"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Add("Authorization", good)
		r.Header.Add("Authorization", second)
		w := httptest.NewRecorder()
		v.Handler(whoami).ServeHTTP(w, r)
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body is not JSON: %s", w.Body)
		}
		if w.Code != http.StatusBadRequest || body["error"] != "invalid_request" || body["error_description"] == "" {
			t.Fatalf("two Authorization headers: %d %s", w.Code, w.Body)
		}
		if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer error="invalid_request"`) {
			t.Fatalf("WWW-Authenticate = %q", got)
		}
	}
	if _, err := v.Authenticate(func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Add("Authorization", good)
		r.Header.Add("Authorization", good)
		return r
	}()); !errors.Is(err, middleware.ErrRepeatedHeader) || errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("Authenticate = %v, want ErrRepeatedHeader alone", err)
	}
}
