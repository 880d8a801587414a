package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/pkg/token"
)

func TestGenerateKey(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			if k.Algorithm != alg || k.Private == nil || k.Public == nil {
				t.Fatalf("incomplete key: %+v", k)
			}
			if !k.Private.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Error("Public is not the private key's public part")
			}
			switch alg {
			case token.ES256:
				if pub, ok := k.Public.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
					t.Errorf("public key %T is not P-256", k.Public)
				}
			case token.EdDSA:
				if _, ok := k.Public.(ed25519.PublicKey); !ok {
					t.Errorf("public key %T is not Ed25519", k.Public)
				}
			case token.RS256:
				if pub, ok := k.Public.(*rsa.PublicKey); !ok || pub.N.BitLen() != 2048 {
					t.Errorf("public key %T is not RSA-2048", k.Public)
				}
			}
			// The id is the RFC 7638 thumbprint, as go-jose computes it.
			tp, err := (&jose.JSONWebKey{Key: k.Public}).Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(tp); k.ID != want {
				t.Errorf("ID = %s, go-jose thumbprint %s", k.ID, want)
			}
		})
	}
	t.Run("fresh keys differ", func(t *testing.T) {
		a, _ := token.GenerateKey(token.EdDSA)
		b, _ := token.GenerateKey(token.EdDSA)
		if a.ID == b.ID {
			t.Error("two generated keys share an id")
		}
	})
	for _, alg := range []string{"HS256", "none", "PS256", "es256", ""} {
		if _, err := token.GenerateKey(alg); !errors.Is(err, token.ErrUnsupportedAlg) {
			t.Errorf("GenerateKey(%q) error = %v, want ErrUnsupportedAlg", alg, err)
		}
	}
}

// rfc7638Key is the RSA key of RFC 7638 §3.1.
const (
	rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	rfc7638E = "AQAB"
	// rfc7638Thumbprint is the thumbprint RFC 7638 §3.1 gives for it.
	rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

func TestThumbprintRFC7638(t *testing.T) {
	n, err := base64.RawURLEncoding.DecodeString(rfc7638N)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	// ParsePublicKey recomputes the thumbprint and compares it with id.
	k, err := token.ParsePublicKey(rfc7638Thumbprint, token.RS256, der)
	if err != nil {
		t.Fatalf("ParsePublicKey with the RFC's thumbprint: %v", err)
	}
	// NewJWKS encodes the key back to the RFC's members.
	set, err := token.NewJWKS([]*token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	if j := set.Keys[0]; j.N != rfc7638N || j.E != rfc7638E || j.Kid != rfc7638Thumbprint {
		t.Errorf("JWK = %+v", j)
	}
	// ParseJWKS without kid uses the thumbprint as id.
	doc := `{"keys":[{"kty":"RSA","alg":"RS256","n":"` + rfc7638N + `","e":"` + rfc7638E + `"}]}`
	keys, err := token.ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].ID != rfc7638Thumbprint {
		t.Errorf("ParseJWKS id = %s, want %s", keys[0].ID, rfc7638Thumbprint)
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			der, err := k.MarshalPublicKey()
			if err != nil {
				t.Fatal(err)
			}
			got, err := token.ParsePublicKey(k.ID, alg, der)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Algorithm != alg || got.Private != nil {
				t.Errorf("got %+v", got)
			}
			if !got.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Error("public key differs")
			}
		})
	}
}

func TestParsePublicKeyRefuses(t *testing.T) {
	der := func(pub crypto.PublicKey) []byte {
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	ek, dk, rk := testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)
	ekDER := der(ek.Public)
	tests := []struct {
		name, id, alg string
		der           []byte
		want          error
	}{
		{"P-384 for ES256", "x", token.ES256, der(&p384.PublicKey), token.ErrInvalidKey},
		{"Ed25519 for ES256", dk.ID, token.ES256, der(dk.Public), token.ErrInvalidKey},
		{"P-256 for EdDSA", ek.ID, token.EdDSA, ekDER, token.ErrInvalidKey},
		{"P-256 for RS256", ek.ID, token.RS256, ekDER, token.ErrInvalidKey},
		{"RSA for ES256", rk.ID, token.ES256, der(rk.Public), token.ErrInvalidKey},
		{"RSA 1024", "x", token.RS256, der(&rsa1024.PublicKey), token.ErrInvalidKey},
		{"wrong id", dk.ID, token.ES256, ekDER, token.ErrInvalidKey},
		{"empty id", "", token.ES256, ekDER, token.ErrInvalidKey},
		{"trailing data", ek.ID, token.ES256, append(append([]byte(nil), ekDER...), 0), token.ErrInvalidKey},
		{"garbage", ek.ID, token.ES256, []byte("not DER"), token.ErrInvalidKey},
		{"HS256", ek.ID, "HS256", ekDER, token.ErrUnsupportedAlg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.ParsePublicKey(tc.id, tc.alg, tc.der); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMarshalPublicKeyRefuses(t *testing.T) {
	ek := testKey(token.ES256)
	for _, k := range []*token.Key{
		nil,
		{ID: ek.ID, Algorithm: token.EdDSA, Public: ek.Public},
		{ID: ek.ID, Algorithm: "HS256", Public: ek.Public},
		{ID: ek.ID, Algorithm: token.ES256},
	} {
		if _, err := k.MarshalPublicKey(); err == nil {
			t.Errorf("MarshalPublicKey(%+v) succeeded", k)
		}
	}
}

// TestWeakEd25519Keys checks that every Ed25519 public key go-jose refuses
// as weak (small order or non-canonical), we refuse too, and that both
// accept a normal key. Candidates: y in {0, 1, -1, the two order-8 y's,
// p, p+1} with either sign bit.
func TestWeakEd25519Keys(t *testing.T) {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	order8, _ := hex.DecodeString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	le := func(v *big.Int) []byte {
		b := v.FillBytes(make([]byte, 32))
		for i, j := 0, 31; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return b
	}
	rev := func(b []byte) *big.Int {
		c := append([]byte(nil), b...)
		for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
			c[i], c[j] = c[j], c[i]
		}
		return new(big.Int).SetBytes(c)
	}
	y8 := rev(order8)
	ys := []*big.Int{
		big.NewInt(0), big.NewInt(1), new(big.Int).Sub(p, big.NewInt(1)),
		y8, new(big.Int).Sub(p, y8), p, new(big.Int).Add(p, big.NewInt(1)),
	}
	var weak int
	for _, y := range ys {
		for _, sign := range []byte{0, 0x80} {
			x := le(y)
			x[31] |= sign
			joseRefuses := (&jose.JSONWebKey{}).UnmarshalJSON(okpJSON(x)) != nil
			_, err := token.ParseJWKS([]byte(`{"keys":[` + string(okpJSON(x)) + `]}`))
			if joseRefuses {
				weak++
				if err == nil {
					t.Errorf("x = %x: go-jose refuses it, ParseJWKS accepts it", x)
				}
			}
		}
	}
	t.Logf("%d of %d candidates are weak for go-jose", weak, 2*len(ys))
	if weak < 10 {
		t.Errorf("only %d candidates were weak for go-jose; the oracle looks wrong", weak)
	}
	good := testKey(token.EdDSA).Public.(ed25519.PublicKey)
	if (&jose.JSONWebKey{}).UnmarshalJSON(okpJSON(good)) != nil {
		t.Fatal("go-jose refuses a normal key")
	}
	if _, err := token.ParseJWKS([]byte(`{"keys":[` + string(okpJSON(good)) + `]}`)); err != nil {
		t.Errorf("ParseJWKS refuses a normal key: %v", err)
	}
	if _, err := token.NewJWKS([]*token.Key{{ID: "z", Algorithm: token.EdDSA, Public: ed25519.PublicKey(make([]byte, 32))}}); !errors.Is(err, token.ErrInvalidKey) {
		t.Errorf("NewJWKS with the all-zero Ed25519 key: %v", err)
	}
}

func okpJSON(x []byte) []byte {
	b, _ := json.Marshal(map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(x)})
	return b
}

func TestNewKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name string
		alg  string
		priv crypto.Signer
		want error // nil: success
	}{
		{"P-256", token.ES256, ec, nil},
		{"Ed25519", token.EdDSA, ed, nil},
		{"RSA 2048", token.RS256, testKey(token.RS256).Private, nil},
		{"P-384", token.ES256, p384, token.ErrInvalidKey},
		{"Ed25519 for ES256", token.ES256, ed, token.ErrInvalidKey},
		{"RSA 1024", token.RS256, rsa1024, token.ErrInvalidKey},
		{"unknown alg", "HS256", ec, token.ErrUnsupportedAlg},
		{"nil", token.ES256, nil, token.ErrNoPrivateKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.NewKey(tc.alg, tc.priv)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tp, _ := (&jose.JSONWebKey{Key: tc.priv.Public()}).Thumbprint(crypto.SHA256)
			if k.ID != base64.RawURLEncoding.EncodeToString(tp) || k.Algorithm != tc.alg || k.Private == nil {
				t.Errorf("key %+v", k)
			}
		})
	}
}
