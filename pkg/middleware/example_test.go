package middleware_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
	"github.com/redis/go-redis/v9"
)

// signed plays authd: it returns an access token signed with key for
// issuer, with roles.
func signed(key *token.Key, issuer string, roles ...string) string {
	now := time.Now()
	raw, err := token.Sign(key, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer:    issuer,
			Subject:   "user-42",
			Audience:  token.ClaimStrings{"https://api.example.com"},
			ID:        "9f6c1d2e",
			IssuedAt:  token.NewNumericDate(now),
			ExpiresAt: token.NewNumericDate(now.Add(15 * time.Minute)),
		},
		SessionID: "s-1",
		Roles:     roles,
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// hello greets the subject of the verified token.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, _ := middleware.ClaimsFrom(r.Context())
	fmt.Fprintf(w, "hello %s", c.Subject)
})

// An air-gapped service verifying authd's tokens with its public key, given
// as PEM.
func Example() {
	key, _ := token.GenerateKey(token.ES256) // authd's signing key
	raw := signed(key, "https://auth.example.com")

	der, _ := key.MarshalPublicKey()
	keys, err := middleware.StaticKeysFromPEM(token.ES256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		panic(err)
	}
	v, err := middleware.NewVerifier(
		middleware.WithIssuer("https://auth.example.com"),
		middleware.WithAudience("https://api.example.com"),
		middleware.WithKeySet(keys),
	)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(v.Handler(hello))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+raw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello user-42
}

// Keys found through the issuer's discovery document, as a service next to
// a running authd does.
func ExampleWithDiscovery() {
	key, _ := token.GenerateKey(token.EdDSA)
	jwks, _ := token.NewJWKS([]*token.Key{key})
	mux := http.NewServeMux()
	authd := httptest.NewServer(mux) // plays authd's /.well-known endpoints
	defer authd.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": authd.URL, "jwks_uri": authd.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(jwks)
	})

	v, err := middleware.NewVerifier(
		middleware.WithIssuer(authd.URL),
		middleware.WithAudience("https://api.example.com"),
		middleware.WithDiscovery(),
	)
	if err != nil {
		panic(err)
	}
	defer v.Close() // stops the background refresh

	c, err := v.Verify(context.Background(), signed(key, authd.URL))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject, c.SessionID)
	// Output: user-42 s-1
}

// Guards compose behind Handler: only admins reach the handler; others get
// 403 insufficient_scope.
func ExampleRequireRoles() {
	key, _ := token.GenerateKey(token.ES256)
	v, _ := middleware.NewVerifier(
		middleware.WithIssuer("https://auth.example.com"),
		middleware.WithAudience("https://api.example.com"),
		middleware.WithKeySet(token.StaticKeySet{key}),
	)
	admin := v.Handler(middleware.RequireRoles("admin")(hello))

	for _, roles := range [][]string{{"admin"}, {"user"}} {
		r := httptest.NewRequest(http.MethodGet, "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+signed(key, "https://auth.example.com", roles...))
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		fmt.Println(roles, w.Code, w.Header().Values("WWW-Authenticate"))
	}
	// Output:
	// [admin] 200 []
	// [user] 403 [Bearer error="insufficient_scope", error_description="the token lacks a required role"]
}

// A service next to authd checks revocations against a local mirror of
// authd's Redis denylist: no Redis round trip per request. While the
// mirror is out of sync with Redis, FailClosed answers 503.
func ExampleWithRevocation_mirror() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	mirror := denylist.NewMirror(ctx, rdb, denylist.WithKeyPrefix("authd:dl:")) // authd's AUTHD_REDIS_KEY_PREFIX
	defer mirror.Close()

	v, err := middleware.NewVerifier(
		middleware.WithIssuer("https://auth.example.com"),
		middleware.WithAudience("https://api.example.com"),
		middleware.WithDiscovery(),
		middleware.WithRevocation(mirror, middleware.FailClosed),
	)
	if err != nil {
		panic(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("/hello", v.Handler(hello))
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := mirror.Ping(r.Context()); err != nil { // in sync with Redis?
			http.Error(w, "revocation mirror out of sync", http.StatusServiceUnavailable)
		}
	})
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}
