package token_test

// Independent checks with go-jose, a second JOSE implementation: what Sign
// and NewJWKS produce must verify there with nothing but the published JSON,
// and what go-jose publishes and signs must work here.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/pkg/token"
)

var joseAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// publishedKeySet is our JWKS as go-jose reads it from JSON.
func publishedKeySet(t *testing.T, keys []*token.Key) jose.JSONWebKeySet {
	t.Helper()
	set, err := token.NewJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	var js jose.JSONWebKeySet
	if err := json.Unmarshal(mustJSON(t, set), &js); err != nil {
		t.Fatalf("go-jose cannot read our JWKS: %v", err)
	}
	return js
}

func TestGoJoseVerifiesOurTokens(t *testing.T) {
	keys := []*token.Key{testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)}
	js := publishedKeySet(t, keys)
	for i, jk := range js.Keys {
		if !jk.IsPublic() || jk.Use != "sig" || jk.KeyID != keys[i].ID || jk.Algorithm != keys[i].Algorithm {
			t.Errorf("go-jose reads key %d as %+v", i, jk)
		}
		tp, err := jk.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got := base64.RawURLEncoding.EncodeToString(tp); got != keys[i].ID {
			t.Errorf("go-jose thumbprint %s, our kid %s", got, keys[i].ID)
		}
	}
	for _, k := range keys {
		for _, typ := range []string{token.TypeAccess, token.TypeRefresh} {
			t.Run(k.Algorithm+"/"+typ, func(t *testing.T) {
				want := accessClaims()
				raw := mustSign(t, k, typ, want)
				jws, err := jose.ParseSignedCompact(raw, joseAlgs)
				if err != nil {
					t.Fatalf("go-jose parse: %v", err)
				}
				if len(jws.Signatures) != 1 {
					t.Fatalf("%d signatures", len(jws.Signatures))
				}
				h := jws.Signatures[0].Header
				if h.Algorithm != k.Algorithm || h.KeyID != k.ID || h.ExtraHeaders[jose.HeaderType] != typ {
					t.Errorf("go-jose header: alg %s kid %s typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType])
				}
				if h.JSONWebKey != nil {
					t.Error("header embeds a key or certificate")
				}
				found := js.Key(h.KeyID)
				if len(found) != 1 {
					t.Fatalf("kid %s found %d times in the JWKS", h.KeyID, len(found))
				}
				payload, err := jws.Verify(found[0])
				if err != nil {
					t.Fatalf("go-jose verify: %v", err)
				}
				var got token.Payload
				if err := json.Unmarshal(payload, &got); err != nil {
					t.Fatal(err)
				}
				sameClaims(t, &got, want)

				// The oracle is not a rubber stamp: another key of the
				// same algorithm fails.
				fresh, err := token.GenerateKey(k.Algorithm)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jws.Verify(publishedKeySet(t, []*token.Key{fresh}).Keys[0]); err == nil {
					t.Error("go-jose verified with another key")
				}
			})
		}
	}
}

func TestGoJoseRefusesTamperedToken(t *testing.T) {
	k := testKey(token.EdDSA)
	js := publishedKeySet(t, []*token.Key{k})
	h, p, s := segments(t, mustSign(t, k, token.TypeAccess, accessClaims()))
	payload, _ := base64.RawURLEncoding.DecodeString(p)
	payload[len(payload)-2] ^= 1
	jws, err := jose.ParseSignedCompact(h+"."+base64.RawURLEncoding.EncodeToString(payload)+"."+s, joseAlgs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(js.Keys[0]); err == nil {
		t.Fatal("go-jose verified a tampered token")
	}
}

// goJoseKeys are keys made with the standard library, published by go-jose.
type goJoseKey struct {
	alg  string
	priv crypto.Signer
}

func goJoseKeys(t *testing.T) []goJoseKey {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs := testKey(token.RS256).Private.(*rsa.PrivateKey) // reuse: RSA generation is slow
	return []goJoseKey{{token.ES256, ec}, {token.EdDSA, ed}, {token.RS256, rs}}
}

func TestParseJWKSFromGoJose(t *testing.T) {
	src := goJoseKeys(t)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: src[0].priv.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
		{Key: src[1].priv.Public(), Use: "sig"}, // no kid, no alg
		{Key: src[2].priv.Public(), KeyID: "rsa-1", Algorithm: "RS256"},
		{Key: src[2].priv.Public(), KeyID: "rsa-pss", Algorithm: "PS256", Use: "sig"},
		{Key: src[0].priv.Public(), KeyID: "ec-enc", Algorithm: "ECDH-ES", Use: "enc"},
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac", Algorithm: "HS256"},
	}}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	edTP, err := set.Keys[1].Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, alg string
		pub     crypto.PublicKey
	}{
		{"ec-1", token.ES256, src[0].priv.Public()},
		{base64.RawURLEncoding.EncodeToString(edTP), token.EdDSA, src[1].priv.Public()},
		{"rsa-1", token.RS256, src[2].priv.Public()},
	}
	if len(keys) != len(want) {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		t.Fatalf("kept %v, want %d keys", ids, len(want))
	}
	for i, w := range want {
		k := keys[i]
		if k.ID != w.id || k.Algorithm != w.alg {
			t.Errorf("key %d: %s/%s, want %s/%s", i, k.ID, k.Algorithm, w.id, w.alg)
		}
		if !k.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(w.pub) {
			t.Errorf("key %d: public key differs", i)
		}
	}
}

// TestVerifyGoJoseTokens verifies tokens signed by go-jose, with keys read
// from a go-jose JWKS: a foreign issuer, end to end.
func TestVerifyGoJoseTokens(t *testing.T) {
	for _, src := range goJoseKeys(t) {
		t.Run(src.alg, func(t *testing.T) {
			kid := "foreign-" + src.alg
			doc := mustJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: src.priv.Public(), KeyID: kid, Algorithm: src.alg, Use: "sig"}}})
			keys, err := token.ParseJWKS(doc)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(
				jose.SigningKey{Algorithm: jose.SignatureAlgorithm(src.alg), Key: src.priv},
				(&jose.SignerOptions{}).WithType("application/at+jwt").WithHeader(jose.HeaderKey("kid"), kid),
			)
			if err != nil {
				t.Fatal(err)
			}
			want := accessClaims()
			jws, err := signer.Sign(mustJSON(t, want))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := jws.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			got, err := newVerifier(t, token.StaticKeySet(keys)).Verify(context.Background(), raw)
			if err != nil {
				t.Fatalf("Verify go-jose token: %v", err)
			}
			sameClaims(t, got, want)
			if !slices.Equal(got.Audience, want.Audience) {
				t.Errorf("aud = %v", got.Audience)
			}
		})
	}
}
