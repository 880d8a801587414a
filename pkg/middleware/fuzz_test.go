package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
)

// FuzzBearerToken checks that whatever the Authorization header holds, a
// token is returned only when it is one non-empty word after "Bearer".
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer abc", "bearer  a.b.c", "Bearer", "Bearer ", "Basic x", "Bearer a b", "Bearer\ta", "BEARER \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{h}
		tok, err := middleware.BearerToken(r)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q with error %v", tok, err)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t") || len(h) > 8<<10 {
			t.Fatalf("BearerToken(%q) = %q", h, tok)
		}
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimLeft(rest, " ") != tok {
			t.Fatalf("BearerToken(%q) = %q", h, tok)
		}
	})
}

// FuzzCacheTTL checks that any Cache-Control and Age headers give a TTL
// within the bounds.
func FuzzCacheTTL(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"max-age=300", ""}, {"public, max-age=60", "10"}, {`max-age="5"`, "x"}, {"no-store", ""}, {"max-age=99999999999999999999", "-1"}} {
		f.Add(s[0], s[1])
	}
	const def, lo, hi = 5 * time.Minute, time.Minute, 24 * time.Hour
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}, "Age": {age}}
		if got := middleware.CacheTTL(h, def, lo, hi); got < lo || got > hi {
			t.Fatalf("CacheTTL(%q, Age %q) = %v, outside %v..%v", cc, age, got, lo, hi)
		}
	})
}
