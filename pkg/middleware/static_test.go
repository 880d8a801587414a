package middleware_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/pkg/middleware"
	"github.com/authd/authd/pkg/token"
)

// staticVerifier verifies with ks and the real clock.
func staticVerifier(t *testing.T, ks token.KeySet) *middleware.Verifier {
	t.Helper()
	v, err := middleware.NewVerifier(
		middleware.WithIssuer(testIssuer),
		middleware.WithAudience(testAudience),
		middleware.WithKeySet(ks),
	)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStaticKeysFromPEM(t *testing.T) {
	for _, alg := range []string{token.ES256, token.EdDSA, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(t, alg, 0)
			ks, err := middleware.StaticKeysFromPEM(alg, publicPEM(t, k))
			if err != nil {
				t.Fatal(err)
			}
			// The id is the thumbprint authd uses as kid.
			if len(ks) != 1 || ks[0].ID != k.ID || ks[0].Private != nil {
				t.Fatalf("key set = %+v, want one public key with id %s", ks, k.ID)
			}
			if _, err := staticVerifier(t, ks).Verify(t.Context(), mint(t, k, time.Now(), nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("several blocks", func(t *testing.T) {
		a, b := testKey(t, token.ES256, 0), testKey(t, token.ES256, 1)
		ks, err := middleware.StaticKeysFromPEM(token.ES256, append(publicPEM(t, a), publicPEM(t, b)...))
		if err != nil || len(ks) != 2 {
			t.Fatalf("StaticKeysFromPEM = %d keys, %v", len(ks), err)
		}
	})

	es := publicPEM(t, testKey(t, token.ES256, 0))
	tests := []struct {
		name string
		alg  string
		data []byte
	}{
		{"wrong algorithm for the key", token.RS256, es},
		{"unknown algorithm", "HS256", es},
		{"no algorithm", "", es},
		{"empty", token.ES256, nil},
		{"not PEM", token.ES256, []byte("hello")},
		{"private key block", token.ES256, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}})},
		{"garbage DER", token.ES256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}})},
		{"trailing data", token.ES256, append(bytes.Clone(es), "junk"...)},
		{"same key twice", token.ES256, append(bytes.Clone(es), es...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := middleware.StaticKeysFromPEM(tt.alg, tt.data); !errors.Is(err, middleware.ErrInvalidKeyData) {
				t.Fatalf("err = %v, want ErrInvalidKeyData", err)
			}
		})
	}
}

func TestStaticKeysFromJWK(t *testing.T) {
	k := testKey(t, token.EdDSA, 0)
	set, err := token.NewJWKS([]*token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	one, _ := json.Marshal(set.Keys[0])
	ks, err := middleware.StaticKeysFromJWK(one)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := staticVerifier(t, ks).Verify(t.Context(), mint(t, k, time.Now(), nil)); err != nil {
		t.Fatal(err)
	}
	enc := set.Keys[0]
	enc.Use = "enc"
	encJSON, _ := json.Marshal(enc)
	for name, data := range map[string][]byte{
		"two objects":  append(append(bytes.Clone(one), ','), one...),
		"a JWK Set":    mustJSON(t, set),
		"array":        []byte("[" + string(one) + "]"),
		"use enc":      encJSON,
		"private part": []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + set.Keys[0].X + `","d":"AAAA"}`),
		"null":         []byte("null"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := middleware.StaticKeysFromJWK(data); !errors.Is(err, middleware.ErrInvalidKeyData) {
				t.Fatalf("err = %v, want ErrInvalidKeyData", err)
			}
		})
	}
}

func TestStaticKeysFromJWKS(t *testing.T) {
	es, rs := testKey(t, token.ES256, 0), testKey(t, token.RS256, 0)
	set, err := token.NewJWKS([]*token.Key{es, rs})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := middleware.StaticKeysFromJWKS(mustJSON(t, set))
	if err != nil || len(ks) != 2 {
		t.Fatalf("StaticKeysFromJWKS = %d keys, %v", len(ks), err)
	}
	v := staticVerifier(t, ks)
	for _, k := range []*token.Key{es, rs} {
		if _, err := v.Verify(t.Context(), mint(t, k, time.Now(), nil)); err != nil {
			t.Fatalf("%s: %v", k.Algorithm, err)
		}
	}
	if _, err := middleware.StaticKeysFromJWKS([]byte(`{"keys":[]}`)); !errors.Is(err, middleware.ErrInvalidKeyData) || !errors.Is(err, token.ErrInvalidJWKS) {
		t.Fatalf("empty set: err = %v, want ErrInvalidKeyData and token.ErrInvalidJWKS", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
