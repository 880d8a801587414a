package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/testclock"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/authdtest"
)

// clock is the settable time source shared by the server under test.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Now().Truncate(time.Second)) }

// backend is one storage combination the whole suite runs on.
type backend struct {
	name string
	// configure fills in the store and denylist settings of cfg.
	configure func(t testing.TB, cfg *config.Config)
}

var backends = []backend{
	{"embedded", func(t testing.TB, cfg *config.Config) {
		cfg.DataDir = t.TempDir()
	}},
	{"postgres+redis", withRedis(testenv.Postgres)},
	{"mariadb+redis", withRedis(testenv.MySQL)},
	// A MongoDB-protocol server: FerretDB in CI (AUTHD_TEST_MONGODB_URL,
	// started by .ci/run), or a real MongoDB.
	{"mongodb+redis", withRedis(testenv.MongoDB)},
}

// withRedis configures the database databaseURL gives a test, the shared
// Redis under a prefix of the test's own, and a fixed master key.
func withRedis(databaseURL func(testing.TB) string) func(t testing.TB, cfg *config.Config) {
	return func(t testing.TB, cfg *config.Config) {
		cfg.DataDir = t.TempDir()
		cfg.DatabaseURL = databaseURL(t)
		_, prefix := testenv.Redis(t)
		cfg.RedisURL = testenv.RedisURL()
		cfg.RedisKeyPrefix = prefix
		cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	}
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// testConfig is the default config with a cheap bcrypt cost.
func testConfig() config.Config {
	cfg := config.Default()
	cfg.BcryptCost = 10
	cfg.LogLevel = "error"
	cfg.MetricsAddr = "" // many servers run at once; the metrics test sets its own
	// Every suite request comes from 127.0.0.1 on a frozen clock, so no
	// budget would ever refill; the abuse tests turn limits on.
	cfg.RateLimitEnabled = false
	// bcrypt at normal priority: go test runs packages in parallel, and
	// niced bcrypt would yield to them until logins time out. The flood
	// test and the real binary keep the niced default.
	cfg.BcryptNice = 0
	return cfg
}

// server is a running authd on a loopback port.
type server struct {
	t      testing.TB
	URL    string
	App    *app.App
	Clock  *clock
	Config config.Config // what it runs with
	stop   func()
}

// start runs authd with cfg until the test ends (or Stop).
func start(t testing.TB, cfg config.Config, clk *clock) *server {
	t.Helper()
	return startWith(t, cfg, clk)
}

// introspectionSecret is the HTTP Basic secret of the tests' gateway,
// "kong".
const introspectionSecret = "introspection-secret-1234"

// withGateway lets the gateway "kong" call /v1/introspect with
// introspectionSecret.
func withGateway(cfg *config.Config) {
	cfg.IntrospectionClientID = "kong"
	cfg.IntrospectionClientSecret = introspectionSecret
}

// startEmbedded runs authd on embedded storage of its own, with
// testConfig changed by edit (nil: none).
func startEmbedded(t testing.TB, clk *clock, edit func(*config.Config)) *server {
	t.Helper()
	cfg := testConfig()
	cfg.DataDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	return start(t, cfg, clk)
}

// startOn runs authd on backend b: testConfig, then b's settings, then
// edit (nil: none).
func startOn(t *testing.T, b backend, clk *clock, edit func(*config.Config)) *server {
	t.Helper()
	cfg := testConfig()
	b.configure(t, &cfg)
	if edit != nil {
		edit(&cfg)
	}
	return start(t, cfg, clk)
}

// startWith is start with extra app options.
func startWith(t testing.TB, cfg config.Config, clk *clock, opts ...app.Option) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, stop := authdtest.Serve(t, cfg, ln, log, append([]app.Option{app.WithClock(clk.Now)}, opts...)...)
	scheme := "http://"
	if cfg.TLSCert != "" {
		scheme = "https://"
	}
	return &server{t: t, URL: scheme + ln.Addr().String(), App: a, Clock: clk, Config: cfg, stop: stop}
}

// Stop shuts the server down gracefully.
func (s *server) Stop() { s.stop() }

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// str returns a string field of the JSON body.
func (r response) str(t testing.TB, field string) string {
	t.Helper()
	s, _ := r.JSON(t)[field].(string)
	return s
}

// wantError asserts status and error code (and that error_description is
// present).
func (r response) wantError(t testing.TB, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	m := r.JSON(t)
	if m["error"] != code {
		t.Fatalf("error = %v, want %q; body %s", m["error"], code, r.Body)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Fatalf("error_description missing: %s", r.Body)
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (s *server) do(method, path, contentType, body string, header map[string]string) response {
	s.t.Helper()
	h := make(http.Header, len(header))
	for k, v := range header {
		h.Set(k, v)
	}
	return s.doHeaders(method, path, contentType, body, h)
}

// doHeaders sends a request with repeatable headers (each value added).
func (s *server) doHeaders(method, path, contentType, body string, header http.Header) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return readResponse(s.t, resp)
}

// readResponse reads and closes an HTTP response.
func readResponse(t testing.TB, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (s *server) postJSON(path string, v any) response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", path, "application/json", string(b), nil)
}

func (s *server) get(path, bearer string) response {
	s.t.Helper()
	h := map[string]string{}
	if bearer != "" {
		h["Authorization"] = "Bearer " + bearer
	}
	return s.do("GET", path, "", "", h)
}

func (s *server) register(email, password string) response {
	return s.postJSON("/v1/register", map[string]string{"email": email, "password": password})
}

// tokens is a token response.
type tokens struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

func (s *server) login(email, password string) tokens {
	s.t.Helper()
	r := s.postJSON("/v1/login", map[string]string{"email": email, "password": password})
	if r.Status != http.StatusOK {
		s.t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return decodeTokens(s.t, r)
}

func decodeTokens(t testing.TB, r response) tokens {
	t.Helper()
	var tk tokens
	if err := json.Unmarshal(r.Body, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" {
		t.Fatalf("incomplete token response: %s", r.Body)
	}
	return tk
}

// refresh calls the token endpoint with a form body.
func (s *server) refresh(refreshToken string) response {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return s.do("POST", "/v1/token", "application/x-www-form-urlencoded", form.Encode(), nil)
}

func (s *server) logout(access, scope string) response {
	path := "/v1/logout"
	if scope != "" {
		path += "?scope=" + scope
	}
	return s.do("POST", path, "", "", map[string]string{"Authorization": "Bearer " + access})
}

// signedUp registers a user and logs in.
func (s *server) signedUp(email string) tokens {
	s.t.Helper()
	if r := s.register(email, "correct horse battery"); r.Status != http.StatusCreated {
		s.t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	return s.login(email, "correct horse battery")
}

// claims decodes a JWT's payload without verifying it (tests only).
func claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	if len(strings.Split(jwt, ".")) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	return segment(t, jwt, 1)
}

func header(t testing.TB, jwt string) map[string]any {
	t.Helper()
	return segment(t, jwt, 0)
}

// segment decodes the i-th dot-separated part of a JWT as a JSON object.
func segment(t testing.TB, jwt string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
