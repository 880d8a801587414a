package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// labelRecorder records the labels every request was observed with.
type labelRecorder struct{ routes, methods map[string]int }

func (l *labelRecorder) ObserveRequest(route, method string, _ int, _ time.Duration) {
	l.routes[route]++
	l.methods[method]++
}

// randomToken is a valid HTTP method (an RFC 9110 token) of n characters.
func randomToken(rng *rand.Rand, n int) string {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = tchar[rng.IntN(len(tchar))]
	}
	return string(b)
}

// randomPath is n random path characters.
func randomPath(rng *rand.Rand, n int) string {
	const pchar = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/"
	b := make([]byte, n)
	for i := range b {
		b[i] = pchar[rng.IntN(len(pchar))]
	}
	return string(b)
}

// TestAccessLogBoundsMethodAndRoute sends requests with made-up methods and
// paths: the metrics observer and the access log see only a standard method
// or "other", and only a registered route or "unmatched".
func TestAccessLogBoundsMethodAndRoute(t *testing.T) {
	rec := &labelRecorder{routes: map[string]int{}, methods: map[string]int{}}
	var logs bytes.Buffer
	a := &API{cfg: Config{Observer: rec}, log: slog.New(slog.NewJSONHandler(&logs, nil))}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(requestID, a.accessLog)
	r.Any("/v1/verify/*path", func(c *gin.Context) { c.Status(http.StatusUnauthorized) })
	r.POST("/v1/login", func(c *gin.Context) { c.Status(http.StatusOK) })

	rng := rand.New(rand.NewPCG(1, 2))
	long := randomToken(rng, 1000)
	methods := []string{"GET", "POST", "PATCH", "PROPFIND", "get", long}
	paths := []string{"/v1/login", "/v1/verify/" + randomPath(rng, 40), "/" + randomPath(rng, 200)}
	for range 200 {
		methods = append(methods, randomToken(rng, 1+rng.IntN(300)))
	}
	for _, m := range methods {
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Method = m
			r.ServeHTTP(httptest.NewRecorder(), req)
		}
	}

	allowedMethods := map[string]bool{"GET": true, "POST": true, "PATCH": true, "other": true}
	for m := range rec.methods {
		if !allowedMethods[m] {
			t.Errorf("method label %.40q observed", m)
		}
	}
	allowedRoutes := map[string]bool{"/v1/login": true, "/v1/verify/*path": true, "unmatched": true}
	for route := range rec.routes {
		if !allowedRoutes[route] {
			t.Errorf("route label %.40q observed", route)
		}
	}
	if rec.methods["other"] == 0 || rec.routes["unmatched"] == 0 {
		t.Fatalf("made-up methods and paths not counted: %d as other, %d unmatched", rec.methods["other"], rec.routes["unmatched"])
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(methods)*len(paths) {
		t.Fatalf("%d log lines for %d requests", len(lines), len(methods)*len(paths))
	}
	for _, line := range lines {
		var entry struct{ Method, Route string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatal(err)
		}
		if !allowedMethods[entry.Method] || !allowedRoutes[entry.Route] {
			t.Fatalf("access log carries method %.40q route %.40q", entry.Method, entry.Route)
		}
	}
	if strings.Contains(logs.String(), long[:100]) {
		t.Fatal("the access log repeats a 1,000-character method")
	}
}

func TestMethodName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"}, {"PATCH", "PATCH"},
		{"DELETE", "DELETE"}, {"CONNECT", "CONNECT"}, {"OPTIONS", "OPTIONS"}, {"TRACE", "TRACE"},
		{"get", "other"}, {"PROPFIND", "other"}, {"", "other"}, {strings.Repeat("A", 1000), "other"},
	} {
		if got := methodName(tt.in); got != tt.want {
			t.Errorf("methodName(%.20q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
