package token_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/token"
)

// Mint an access token and verify it.
func Example() {
	key, err := token.GenerateKey(token.EdDSA)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	raw, err := token.Sign(key, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer:    "https://auth.example.com",
			Subject:   "user-42",
			Audience:  token.ClaimStrings{"https://api.example.com"},
			ID:        "0f8c2b9e",
			IssuedAt:  token.NewNumericDate(now),
			ExpiresAt: token.NewNumericDate(now.Add(15 * time.Minute)),
		},
		ClientID: "web",
		Roles:    []string{"admin"},
		Scope:    "read write",
	})
	if err != nil {
		panic(err)
	}

	v, err := token.NewChecker(token.StaticKeySet{key},
		token.WithIssuer("https://auth.example.com"),
		token.WithAudience("https://api.example.com"),
	)
	if err != nil {
		panic(err)
	}
	claims, err := v.Verify(context.Background(), raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.ClientID, claims.Roles, claims.Scope)
	// Output: user-42 web [admin] read write
}

// Tell an expired token (401, refresh it) from a key set that cannot answer
// (503, try again).
func ExampleChecker_Verify_errors() {
	key, _ := token.GenerateKey(token.ES256)
	issued := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	raw, _ := token.Sign(key, token.TypeAccess, &token.Payload{RegisteredClaims: token.RegisteredClaims{
		Issuer: "https://auth.example.com", Subject: "user-42", Audience: token.ClaimStrings{"api"}, ID: "1",
		IssuedAt: token.NewNumericDate(issued), ExpiresAt: token.NewNumericDate(issued.Add(15 * time.Minute)),
	}})

	later := func() time.Time { return issued.Add(time.Hour) }
	v, _ := token.NewChecker(token.StaticKeySet{key},
		token.WithIssuer("https://auth.example.com"), token.WithAudience("api"), token.WithClock(later))
	_, err := v.Verify(context.Background(), raw)
	fmt.Println(errors.Is(err, token.ErrInvalidToken), errors.Is(err, token.ErrExpired), errors.Is(err, token.ErrKeySetUnavailable))
	fmt.Println(err)
	// Output:
	// true true false
	// token: invalid token: expired: exp is in the past
}

// Keys are stored sealed under a master key and published as a JWK Set.
func ExampleSealPrivateKey() {
	master := make([]byte, token.MasterKeySize) // from a secret store in real use
	if _, err := rand.Read(master); err != nil {
		panic(err)
	}
	key, _ := token.GenerateKey(token.ES256)

	sealed, err := token.SealPrivateKey(master, key)
	if err != nil {
		panic(err)
	}
	opened, err := token.OpenPrivateKey(master, key.ID, key.Algorithm, sealed)
	if err != nil {
		panic(err)
	}
	set, _ := token.NewJWKS([]*token.Key{opened})
	doc, _ := json.Marshal(set)
	keys, _ := token.ParseJWKS(doc)
	fmt.Println(opened.ID == key.ID, len(keys), keys[0].Algorithm, keys[0].Private == nil)
	// Output: true 1 ES256 true
}
