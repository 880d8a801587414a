package token

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"
)

// TestOpenChecksTheOpenedKey builds blobs whose additional data matches but
// whose content is another key: only the checks after decryption (key type,
// thumbprint) can refuse them.
func TestOpenChecksTheOpenedKey(t *testing.T) {
	mk := make([]byte, MasterKeySize)
	rand.Read(mk)
	ec, err := GenerateKey(ES256)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := GenerateKey(EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(content *Key, id, alg string) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(content.Private)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := sealAEAD(mk)
		if err != nil {
			t.Fatal(err)
		}
		return aead.Seal([]byte{sealV1}, nil, der, sealAAD(sealV1, id, alg))
	}
	tests := []struct {
		name    string
		content *Key
		id, alg string
	}{
		{"other key under this id", ed, ec.ID, EdDSA},
		{"key type does not fit alg", ed, ed.ID, ES256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blob := seal(tc.content, tc.id, tc.alg)
			if _, err := OpenPrivateKey(mk, tc.id, tc.alg, blob); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("OpenPrivateKey error = %v, want ErrInvalidKey", err)
			}
		})
	}
	// Sanity: the helper makes blobs Open accepts when they are honest.
	if _, err := OpenPrivateKey(mk, ec.ID, ES256, seal(ec, ec.ID, ES256)); err != nil {
		t.Fatalf("honest blob: %v", err)
	}
}

func TestSealAADIsInjective(t *testing.T) {
	a := sealAAD(sealV1, "ab", "ES256")
	b := sealAAD(sealV1, "b", "ES256a")
	if string(a) == string(b) {
		t.Fatal("different (kid, alg) pairs share additional data")
	}
}
