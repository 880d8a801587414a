package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/token"
)

func TestNewJWKS(t *testing.T) {
	keys := []*token.Key{testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)}
	set, err := token.NewJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	// Keys carry a private part here: none of it may be published.
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"kty": true, "kid": true, "use": true, "alg": true, "crv": true, "x": true, "y": true, "n": true, "e": true}
	for _, m := range doc.Keys {
		for name := range m {
			if !allowed[name] {
				t.Errorf("published member %q", name)
			}
		}
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return b
	}
	for i, j := range set.Keys {
		k := keys[i]
		if j.Kid != k.ID || j.Alg != k.Algorithm || j.Use != "sig" {
			t.Errorf("key %d: kid/alg/use = %s/%s/%s", i, j.Kid, j.Alg, j.Use)
		}
		switch j.Alg {
		case token.ES256:
			if j.Kty != "EC" || j.Crv != "P-256" || len(dec(j.X)) != 32 || len(dec(j.Y)) != 32 || j.N != "" {
				t.Errorf("EC JWK %+v", j)
			}
		case token.EdDSA:
			if j.Kty != "OKP" || j.Crv != "Ed25519" || len(dec(j.X)) != 32 || j.Y != "" {
				t.Errorf("OKP JWK %+v", j)
			}
		case token.RS256:
			n := dec(j.N)
			if j.Kty != "RSA" || j.E != "AQAB" || n[0] == 0 || len(n) != 256 || j.Crv != "" {
				t.Errorf("RSA JWK %+v", j)
			}
		}
	}

	empty, err := token.NewJWKS(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(empty); string(b) != `{"keys":[]}` {
		t.Errorf("empty set encodes as %s", b)
	}
}

// TestNewJWKSFixedWidthCoordinates finds a P-256 key with a short
// coordinate (leading zero byte, about 1 in 128 keys) and checks it is
// still encoded on 32 bytes (RFC 7518 §6.2.1.2).
func TestNewJWKSFixedWidthCoordinates(t *testing.T) {
	for i := 0; i < 5000; i++ {
		k, err := token.GenerateKey(token.ES256)
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public.(*ecdsa.PublicKey)
		raw, _ := pub.Bytes()
		if raw[1] != 0 && raw[33] != 0 {
			continue
		}
		set, err := token.NewJWKS([]*token.Key{k})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
		y, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].Y)
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("coordinates of %d and %d bytes", len(x), len(y))
		}
		keys, err := token.ParseJWKS(mustJSON(t, set))
		if err != nil || keys[0].ID != k.ID {
			t.Fatalf("round trip: %v", err)
		}
		return
	}
	t.Skip("no key with a leading zero coordinate found")
}

func TestNewJWKSRefuses(t *testing.T) {
	ek := testKey(token.ES256)
	tests := []struct {
		name string
		keys []*token.Key
	}{
		{"nil key", []*token.Key{nil}},
		{"no id", []*token.Key{{Algorithm: token.ES256, Public: ek.Public}}},
		{"duplicate id", []*token.Key{ek, ek}},
		{"alg does not fit", []*token.Key{{ID: "a", Algorithm: token.EdDSA, Public: ek.Public}}},
		{"no public key", []*token.Key{{ID: "a", Algorithm: token.ES256}}},
		{"unsupported alg", []*token.Key{{ID: "a", Algorithm: "ES384", Public: ek.Public}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.NewJWKS(tc.keys); err == nil {
				t.Fatal("NewJWKS succeeded")
			}
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKSRoundTrip(t *testing.T) {
	keys := []*token.Key{testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)}
	set, err := token.NewJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := token.ParseJWKS(mustJSON(t, set))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d keys, want %d", len(got), len(keys))
	}
	for i, k := range got {
		if k.ID != keys[i].ID || k.Algorithm != keys[i].Algorithm || k.Private != nil {
			t.Errorf("key %d: %s/%s", i, k.ID, k.Algorithm)
		}
		if !k.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(keys[i].Public) {
			t.Errorf("key %d: public key differs", i)
		}
	}
}

// jwk returns the JSON of k's published JWK with members changed: a nil
// value deletes.
func jwk(t testing.TB, k *token.Key, kv ...any) string {
	t.Helper()
	set, err := token.NewJWKS([]*token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(mustJSON(t, set.Keys[0]), &m); err != nil {
		t.Fatal(err)
	}
	return string(mustJSON(t, withHeader(m, kv...)))
}

func TestParseJWKS(t *testing.T) {
	ek, dk, rk := testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)
	good := jwk(t, dk)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384raw, _ := p384.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	ecX := jwkMember(t, ek, "x")
	// A point off the curve: x of our key, y + 1.
	yb, _ := base64.RawURLEncoding.DecodeString(jwkMember(t, ek, "y"))
	yPlus := new(big.Int).Add(new(big.Int).SetBytes(yb), big.NewInt(1)).FillBytes(make([]byte, 32))
	p := elliptic.P256().Params().P.FillBytes(make([]byte, 32))

	tests := []struct {
		name    string
		doc     string
		wantIDs []string // nil: error
		wantAlg []string
	}{
		{name: "one of each", doc: `{"keys":[` + jwk(t, ek) + `,` + good + `,` + jwk(t, rk) + `]}`,
			wantIDs: []string{ek.ID, dk.ID, rk.ID}, wantAlg: []string{token.ES256, token.EdDSA, token.RS256}},
		{name: "foreign kid kept", doc: `{"keys":[` + jwk(t, ek, "kid", "2024-rotation") + `]}`, wantIDs: []string{"2024-rotation"}},
		{name: "no kid: thumbprint", doc: `{"keys":[` + jwk(t, ek, "kid", nil) + `]}`, wantIDs: []string{ek.ID}},
		{name: "empty kid: thumbprint", doc: `{"keys":[` + jwk(t, dk, "kid", "") + `]}`, wantIDs: []string{dk.ID}},
		{name: "EC alg inferred", doc: `{"keys":[` + jwk(t, ek, "alg", nil) + `]}`, wantIDs: []string{ek.ID}, wantAlg: []string{token.ES256}},
		{name: "OKP alg inferred", doc: `{"keys":[` + jwk(t, dk, "alg", nil) + `]}`, wantIDs: []string{dk.ID}, wantAlg: []string{token.EdDSA}},
		{name: "use absent", doc: `{"keys":[` + jwk(t, ek, "use", nil) + `]}`, wantIDs: []string{ek.ID}},
		{name: "key_ops verify", doc: `{"keys":[` + jwk(t, ek, "key_ops", []string{"verify"}) + `]}`, wantIDs: []string{ek.ID}},
		{name: "unknown members ignored", doc: `{"keys":[` + jwk(t, ek, "x5t", "abc", "ext", true) + `],"extra":1}`, wantIDs: []string{ek.ID}},
		{name: "duplicate kid: first wins", doc: `{"keys":[` + jwk(t, ek, "kid", "k") + `,` + jwk(t, dk, "kid", "k") + `]}`, wantIDs: []string{"k"}, wantAlg: []string{token.ES256}},
		{name: "RSA e with a leading zero tolerated", doc: `{"keys":[` + jwk(t, rk, "e", "AAEAAQ") + `]}`, wantIDs: []string{rk.ID}},

		// Skipped keys beside a good one.
		{name: "skip use enc", doc: `{"keys":[` + jwk(t, ek, "use", "enc") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip key_ops without verify", doc: `{"keys":[` + jwk(t, ek, "key_ops", []string{"encrypt"}) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip kty oct", doc: `{"keys":[{"kty":"oct","k":"c2VjcmV0"},` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip unknown kty", doc: `{"keys":[{"kty":"AKP","alg":"ML-DSA-44","pub":"AAAA"},` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA without alg", doc: `{"keys":[` + jwk(t, rk, "alg", nil) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA PS256", doc: `{"keys":[` + jwk(t, rk, "alg", "PS256") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA 1024", doc: `{"keys":[{"kty":"RSA","alg":"RS256","n":"` + b64(rsa1024.N.Bytes()) + `","e":"AQAB"},` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA even exponent", doc: `{"keys":[` + jwk(t, rk, "e", "AQAA") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA huge exponent", doc: `{"keys":[` + jwk(t, rk, "e", b64([]byte{1, 0, 0, 0, 1})) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC with alg RS256", doc: `{"keys":[` + jwk(t, ek, "alg", token.RS256) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC with alg ES384", doc: `{"keys":[` + jwk(t, ek, "alg", "ES384") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip OKP with alg ES256", doc: `{"keys":[` + jwk(t, dk, "alg", token.ES256) + `]` + `}`},
		{name: "skip OKP Ed448", doc: `{"keys":[` + jwk(t, dk, "crv", "Ed448") + `,` + jwk(t, ek) + `]}`, wantIDs: []string{ek.ID}},
		{name: "skip OKP X25519", doc: `{"keys":[` + jwk(t, dk, "crv", "X25519", "alg", nil) + `,` + jwk(t, ek) + `]}`, wantIDs: []string{ek.ID}},
		{name: "skip EC P-384", doc: `{"keys":[{"kty":"EC","crv":"P-384","x":"` + b64(p384raw[1:49]) + `","y":"` + b64(p384raw[49:]) + `"},` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC point off the curve", doc: `{"keys":[` + jwk(t, ek, "y", b64(yPlus)) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC coordinate = p", doc: `{"keys":[` + jwk(t, ek, "x", b64(p)) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC short coordinate", doc: `{"keys":[` + jwk(t, ek, "x", ecX[:len(ecX)-2]) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC padded coordinate", doc: `{"keys":[` + jwk(t, ek, "x", ecX+"=") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC missing y", doc: `{"keys":[` + jwk(t, ek, "y", nil) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip EC private d", doc: `{"keys":[` + jwk(t, ek, "d", "AAAA") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip RSA private p", doc: `{"keys":[` + jwk(t, rk, "p", "AAAA") + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip all-zero Ed25519", doc: `{"keys":[` + jwk(t, dk, "x", b64(make([]byte, 32))) + `,` + jwk(t, ek) + `]}`, wantIDs: []string{ek.ID}},
		{name: "skip kid not a string", doc: `{"keys":[` + jwk(t, ek, "kid", 1) + `,` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "skip kty not a string", doc: `{"keys":[{"kty":null},` + good + `]}`, wantIDs: []string{dk.ID}},
		{name: "member names are case-sensitive", doc: `{"keys":[` + strings.Replace(jwk(t, ek), `"kty"`, `"KTY"`, 1) + `,` + good + `]}`, wantIDs: []string{dk.ID}},

		// Errors.
		{name: "empty input", doc: ``},
		{name: "not JSON", doc: `hello`},
		{name: "JSON array", doc: `[]`},
		{name: "null", doc: `null`},
		{name: "no keys member", doc: `{"Keys":[` + good + `]}`},
		{name: "keys null", doc: `{"keys":null}`},
		{name: "keys not an array", doc: `{"keys":{}}`},
		{name: "key not an object", doc: `{"keys":[1]}`},
		{name: "key null", doc: `{"keys":[null,` + good + `]}`},
		{name: "no keys", doc: `{"keys":[]}`},
		{name: "no usable key", doc: `{"keys":[` + jwk(t, rk, "alg", nil) + `]}`},
		{name: "trailing data", doc: `{"keys":[` + good + `]}{}`},
		{name: "truncated", doc: `{"keys":[` + good},
		{name: "too large", doc: `{"keys":[` + good + `],"pad":"` + strings.Repeat("x", token.MaxJWKSSize) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := token.ParseJWKS([]byte(tc.doc))
			if tc.wantIDs == nil {
				if err == nil {
					t.Fatalf("ParseJWKS returned %d keys", len(keys))
				}
				if !errors.Is(err, token.ErrInvalidJWKS) {
					t.Errorf("error %q does not match ErrInvalidJWKS", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids, gotAlgs []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				gotAlgs = append(gotAlgs, k.Algorithm)
				if k.Private != nil {
					t.Error("parsed key has a private part")
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ids = %v, want %v", ids, tc.wantIDs)
			}
			if tc.wantAlg != nil && strings.Join(gotAlgs, ",") != strings.Join(tc.wantAlg, ",") {
				t.Errorf("algs = %v, want %v", gotAlgs, tc.wantAlg)
			}
		})
	}
}

func jwkMember(t testing.TB, k *token.Key, name string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(jwk(t, k)), &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

func TestParseJWKSErrorHidesDocument(t *testing.T) {
	secretish := "s3cr3t-looking-value-from-the-document"
	_, err := token.ParseJWKS([]byte(`{"keys":[{"kty":"` + secretish + `","kid":"` + secretish + `"}]}`))
	if err == nil || strings.Contains(err.Error(), secretish) {
		t.Fatalf("error %v", err)
	}
}
