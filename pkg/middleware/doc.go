// Package middleware verifies authd access tokens in any Go service.
//
// The core is the framework-free Verifier: Verify(ctx, raw) checks an access
// token's signature, type, issuer, audience and lifetime (pkg/token) and,
// when a revocation checker is configured, the denylist authd writes
// (pkg/denylist). Verifier.Handler adapts it to net/http (and so to chi and
// anything else built on http.Handler); the gin adapter lives in
// pkg/middleware/ginmw so that a service importing this package does not
// link gin. Nothing here imports a database driver.
//
//	v, err := middleware.NewVerifier(
//		middleware.WithIssuer("https://auth.example.com"),
//		middleware.WithAudience("https://api.example.com"),
//		middleware.WithDiscovery(), // keys from the issuer's JWKS
//	)
//	if err != nil { ... }
//	defer v.Close()
//	mux.Handle("/hello", v.Handler(hello))
//	mux.Handle("/admin", v.Handler(middleware.RequireRoles("admin")(admin)))
//
// # What passes
//
// Only RFC 9068 access tokens: header typ "at+jwt" (or "application/at+jwt"),
// an alg that is both allowed (WithAllowedAlgorithms; default ES256, EdDSA,
// RS256) and the selected key's own algorithm, no crit header, and a kid
// naming a key of the key source (a token without kid passes only when the
// source holds exactly one key). The jku, x5u, jwk and x5c headers are never
// read. Then exp (required), nbf, iat (required), iss, aud, sub and jti are
// checked with a bounded leeway (WithLeeway; default 5s, at most 60s).
// Refresh tokens ("refresh+jwt"), "none", HMAC algorithms and tokens signed
// by any key outside the source are refused.
//
// # Key sources
//
// Exactly one is given to NewVerifier:
//
//   - WithDiscovery: the issuer's /.well-known/openid-configuration gives
//     jwks_uri (the document's issuer must equal WithIssuer's), then as
//     WithJWKSURL. NewDiscoveryKeySet builds the same key set on its own.
//   - WithJWKSURL: a remote JWK Set (NewRemoteKeySet). It is fetched on the
//     first verification, cached for the response's Cache-Control max-age
//     (bounded, by default to 1m..24h; 5m when absent) and refreshed in the
//     background before that expires. A kid the cache does not know causes
//     one refetch, at most once per refetch interval (default 5s) with
//     concurrent misses sharing one fetch, so a flood of made-up kids cannot
//     hammer authd. If a fetch fails the last good set keeps serving; with
//     no set at all Verify returns ErrUnavailable (503), not ErrInvalidToken.
//     Responses are capped in size, fetches time out, and Close (or the
//     context given to NewRemoteKeySet) stops the background goroutine.
//   - WithKeySet: any token.KeySet, such as a fixed set for air-gapped
//     services built with StaticKeysFromPEM (PKIX public keys, the algorithm
//     given explicitly), StaticKeysFromJWK or StaticKeysFromJWKS.
//
// Of a JWK Set only signature keys ("use" absent or "sig") of a supported
// type are kept, and a key is used only with its own "alg" (token.ParseJWKS).
//
// # Lifetime bound
//
// A token whose exp - iat exceeds the issuer's access-token lifetime plus
// the leeway is refused, so that one minted with a stolen key cannot live
// for days: the lifetime is WithMaxTokenLifetime's, else the discovery
// document's DiscoveryAccessTokenLifetime (with WithDiscovery or a
// NewDiscoveryKeySet set), else DefaultMaxTokenLifetime.
// InsecureAllowAnyTokenLifetime turns the bound off. A token issued after
// its key's retirement (the JWK member token.RetiredAtMember) is refused
// as well (pkg/token).
//
// # Verified-token cache
//
// A Verifier remembers the token strings it has verified (10,000 by
// default; WithVerifiedCache sets the number, 0 turns the cache off), so
// that a client repeating its token costs a small fraction of a signature
// check, for any algorithm (BenchmarkVerifierCached; figures in
// docs/benchmarks.md). Nothing that can change is taken from
// the cache: on every hit exp, nbf and iat are checked again against the
// Verifier's clock with the same leeway, so is the lifetime bound, the
// token's kid must still give the key that verified it (an equal key
// rebuilt by a key set reload counts; a key removed from the JWK Set, as
// authd removes a revoked key, or replaced does not) and that key's
// retirement, if it has one now, must not precede the token's iat, and the
// revocation check runs as for any token. Only tokens whose signature and
// claims passed are cached, never a refusal; each caller gets its own copy
// of the claims. The cache is keyed on the exact string: the two encodings
// of one ECDSA-signed token are two entries, which is harmless. It is
// bounded (about 1 KB per entry), sharded, and evicts a random entry,
// preferring expired ones, when full.
//
// # Revocation
//
// WithRevocation adds one denylist check per request after the token is
// verified: with denylist.NewRedis, a single MGET of the token's jti, sid
// and per-user cutoff keys, the same keys authd writes at logout. A revoked
// token fails with ErrRevoked (401 invalid_token). When the denylist cannot
// be read the policy decides:
//
//   - FailClosed (the default and the safe choice): Verify returns
//     ErrUnavailable, answered 503 with Retry-After, never 401, so clients
//     keep their valid tokens and retry instead of logging users out.
//   - FailOpen: the token is accepted on its signature and claims alone, and
//     a warning is logged. A revoked token can then pass until Redis is back
//     or the token expires (the access token TTL, 15m by default).
//
// WithRevocation takes a revocation.Checker (pkg/revocation), a leaf
// package, so this package never imports pkg/denylist: a service without
// the check links no Redis client, and one with it adds go-redis only
// (internal/consumertest proves both).
//
// A denylist.Mirror given to WithRevocation removes the round trip: it
// keeps a copy of the denylist in memory, fed by the revocation events
// authd publishes, and checks against it without a network call. A
// revocation reaches it within the pub/sub delivery time; while it is out of sync with Redis (starting, reconnecting,
// or not confirmed within its staleness bound, 1s by default) its checks
// fail with denylist.ErrUnavailable, so FailClosed answers 503 rather
// than trust a stale copy. See ExampleWithRevocation_mirror and the
// denylist package doc for the bound.
//
// # Error responses
//
// Handler, the guards and ginmw answer per RFC 6750 with a JSON body
// {"error","error_description"} whose description never includes the cause
// (the cause stays in the returned error, for logs):
//
//   - no token: 401, WWW-Authenticate: Bearer, error "invalid_request";
//   - two Authorization headers (ErrRepeatedHeader): 400,
//     WWW-Authenticate: Bearer error="invalid_request", error "invalid_request";
//   - invalid, expired, revoked or wrong-type token: 401,
//     WWW-Authenticate: Bearer error="invalid_token", error "invalid_token";
//   - missing scope (RequireScopes, RequireAnyScope): 403,
//     WWW-Authenticate: Bearer error="insufficient_scope", scope="...";
//   - missing role (RequireRoles, RequireAnyRole): 403 with the same
//     insufficient_scope code, the RFC 6750 code for "valid token, not enough
//     privilege", without a scope attribute; role names are not disclosed;
//   - key set or denylist unavailable: 503, Retry-After, error
//     "temporarily_unavailable".
//
// ResponseFor exposes the mapping for other adapters.
package middleware
