package middleware_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "https://api.example.com"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// keys are generated once per algorithm: RSA generation is slow.
var (
	keyMu    sync.Mutex
	keyCache = map[string][]*token.Key{}
)

// testKey returns the i-th test key of alg, the same for the whole run.
func testKey(t testing.TB, alg string, i int) *token.Key {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	for len(keyCache[alg]) <= i {
		k, err := token.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		keyCache[alg] = append(keyCache[alg], k)
	}
	return keyCache[alg][i]
}

// accessClaims returns valid access token claims issued at now.
func accessClaims(now time.Time) *token.Payload {
	return &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "user-1",
			Audience:  token.ClaimStrings{testAudience},
			ID:        "jti-" + strconv.FormatInt(now.UnixNano(), 36),
			IssuedAt:  token.NewNumericDate(now),
			ExpiresAt: token.NewNumericDate(now.Add(15 * time.Minute)),
		},
		SessionID: "sid-1",
		ClientID:  "authd",
		Roles:     []string{"user"},
		Scope:     "read write",
	}
}

// mint signs an access token with k; edit, if given, changes the claims.
func mint(t testing.TB, k *token.Key, now time.Time, edit func(*token.Payload)) string {
	t.Helper()
	c := accessClaims(now)
	if edit != nil {
		edit(c)
	}
	raw, err := token.Sign(k, token.TypeAccess, c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// testVerifier returns a Verifier for testIssuer and testAudience on ks,
// with opts after those.
func testVerifier(t testing.TB, ks token.KeySet, opts ...middleware.Option) *middleware.Verifier {
	t.Helper()
	v, err := middleware.NewVerifier(append([]middleware.Option{
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(ks),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantConfigError checks the error of a constructor given options with
// the problems want: none (nil) means err must be nil, else err must be
// ErrInvalidConfig and mention each of them.
func wantConfigError(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if !errors.Is(err, middleware.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// forge signs claims with an arbitrary header and method, as an attacker
// would; key is what method needs.
func forge(t testing.TB, method jwt.SigningMethod, header map[string]any, c any, key any) string {
	t.Helper()
	claims, ok := c.(jwt.Claims)
	if !ok {
		claims = payloadClaims{Payload: c.(*token.Payload)}
	}
	h := map[string]any{"alg": method.Alg()}
	for k, v := range header {
		if v == nil {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	raw, err := (&jwt.Token{Method: method, Header: h, Claims: claims}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwksServer serves a JWK Set (and a discovery document for its own URL)
// over loopback and counts requests.
type jwksServer struct {
	*httptest.Server
	body         atomic.Pointer[[]byte]
	cacheControl atomic.Pointer[string]
	status       atomic.Int32
	jwksHits     atomic.Int64
	discHits     atomic.Int64
	// discoveryIssuer overrides the issuer of the discovery document.
	discoveryIssuer atomic.Pointer[string]
	// lifetime, when set, is the document's authd_access_token_lifetime
	// member, as raw JSON.
	lifetime atomic.Pointer[string]
}

func newJWKSServer(t testing.TB, keys ...*token.Key) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.setKeys(t, keys...)
	s.setCacheControl("public, max-age=300")
	s.status.Store(http.StatusOK)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		s.jwksHits.Add(1)
		if cc := *s.cacheControl.Load(); cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.discHits.Add(1)
		iss := s.URL
		if p := s.discoveryIssuer.Load(); p != nil {
			iss = *p
		}
		doc := map[string]any{"issuer": iss, "jwks_uri": s.URL + "/jwks.json"}
		if l := s.lifetime.Load(); l != nil {
			doc["authd_access_token_lifetime"] = json.RawMessage(*l)
		}
		_ = json.NewEncoder(w).Encode(doc)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// JWKSURL is the JWK Set's URL.
func (s *jwksServer) JWKSURL() string { return s.URL + "/jwks.json" }

func (s *jwksServer) setKeys(t testing.TB, keys ...*token.Key) {
	t.Helper()
	set, err := token.NewJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	s.setJWKS(t, set)
}

func (s *jwksServer) setJWKS(t testing.TB, set token.JWKS) {
	t.Helper()
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.setBody(b)
}

func (s *jwksServer) setBody(b []byte)            { s.body.Store(&b) }
func (s *jwksServer) setCacheControl(cc string)   { s.cacheControl.Store(&cc) }
func (s *jwksServer) setDiscoveryIssuer(i string) { s.discoveryIssuer.Store(&i) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// payloadClaims lets golang-jwt sign a *token.Payload: signing only
// marshals the claims, and the jwt.Claims methods come from a
// jwt.RegisteredClaims that is never encoded.
type payloadClaims struct {
	jwt.RegisteredClaims `json:"-"`
	*token.Payload
}
