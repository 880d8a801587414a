package token_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/authd/authd/pkg/token"
)

func masterKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	mk := masterKey(t)
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			sealed, err := token.SealPrivateKey(mk, k)
			if err != nil {
				t.Fatal(err)
			}
			if sealed[0] != 1 {
				t.Errorf("version byte = %d, want 1", sealed[0])
			}
			der, _ := x509.MarshalPKCS8PrivateKey(k.Private)
			if bytes.Contains(sealed, der[len(der)-16:]) {
				t.Error("sealed blob contains plaintext key bytes")
			}
			again, _ := token.SealPrivateKey(mk, k)
			if bytes.Equal(sealed, again) {
				t.Error("two seals are identical: the nonce is not random")
			}
			got, err := token.OpenPrivateKey(mk, k.ID, alg, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Algorithm != alg {
				t.Errorf("opened %s/%s", got.ID, got.Algorithm)
			}
			if !got.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Error("public key differs")
			}
			// The opened key signs tokens the original key's public part verifies.
			raw := mustSign(t, got, token.TypeAccess, accessClaims())
			if _, err := newVerifier(t, token.StaticKeySet{{ID: k.ID, Algorithm: alg, Public: k.Public}}).Verify(t.Context(), raw); err != nil {
				t.Errorf("token signed by the opened key: %v", err)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	mk := masterKey(t)
	ek, dk := testKey(token.ES256), testKey(token.EdDSA)
	other, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := token.SealPrivateKey(mk, ek)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		master []byte
		id     string
		alg    string
		sealed []byte
		want   error
	}{
		{"wrong master key", masterKey(t), ek.ID, token.ES256, sealed, token.ErrInvalidKey},
		{"moved to another kid", mk, other.ID, token.ES256, sealed, token.ErrInvalidKey},
		{"moved to another alg", mk, ek.ID, token.EdDSA, sealed, token.ErrInvalidKey},
		{"another key's id and alg", mk, dk.ID, token.EdDSA, sealed, token.ErrInvalidKey},
		{"truncated by one byte", mk, ek.ID, token.ES256, sealed[:len(sealed)-1], token.ErrInvalidKey},
		{"truncated to the header", mk, ek.ID, token.ES256, sealed[:13], token.ErrInvalidKey},
		{"empty", mk, ek.ID, token.ES256, nil, token.ErrInvalidKey},
		{"unknown version", mk, ek.ID, token.ES256, flip(0), token.ErrInvalidKey},
		{"nonce altered", mk, ek.ID, token.ES256, flip(5), token.ErrInvalidKey},
		{"ciphertext altered", mk, ek.ID, token.ES256, flip(40), token.ErrInvalidKey},
		{"tag altered", mk, ek.ID, token.ES256, flip(len(sealed) - 1), token.ErrInvalidKey},
		{"master key too short", mk[:16], ek.ID, token.ES256, sealed, token.ErrInvalidKey},
		{"master key too long", append(bytes.Clone(mk), 0), ek.ID, token.ES256, sealed, token.ErrInvalidKey},
		{"no master key", nil, ek.ID, token.ES256, sealed, token.ErrInvalidKey},
		{"unsupported alg", mk, ek.ID, "HS256", sealed, token.ErrUnsupportedAlg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.OpenPrivateKey(tc.master, tc.id, tc.alg, tc.sealed)
			if !errors.Is(err, tc.want) || k != nil {
				t.Fatalf("OpenPrivateKey = %v, %v; want %v", k, err, tc.want)
			}
			if bytes.Contains([]byte(err.Error()), tc.master) && len(tc.master) > 0 {
				t.Error("error contains the master key")
			}
		})
	}
}

func TestSealRefuses(t *testing.T) {
	mk := masterKey(t)
	ek := testKey(token.ES256)
	tests := []struct {
		name   string
		master []byte
		key    *token.Key
		want   error
	}{
		{"nil key", mk, nil, token.ErrNoPrivateKey},
		{"public only", mk, &token.Key{ID: ek.ID, Algorithm: token.ES256, Public: ek.Public}, token.ErrNoPrivateKey},
		{"id is not the thumbprint", mk, &token.Key{ID: "forged", Algorithm: token.ES256, Public: ek.Public, Private: ek.Private}, token.ErrInvalidKey},
		{"alg does not fit the key", mk, &token.Key{ID: ek.ID, Algorithm: token.EdDSA, Public: ek.Public, Private: ek.Private}, token.ErrInvalidKey},
		{"master key 31 bytes", mk[:31], ek, token.ErrInvalidKey},
		{"master key 33 bytes", append(bytes.Clone(mk), 1), ek, token.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.SealPrivateKey(tc.master, tc.key); !errors.Is(err, tc.want) {
				t.Fatalf("SealPrivateKey error = %v, want %v", err, tc.want)
			}
		})
	}
}
