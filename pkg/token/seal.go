package token

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"encoding/binary"
	"fmt"
)

// Sealed key format, version 1:
//
//	0x01 || nonce (12 random bytes) || AES-256-GCM(PKCS#8 DER) || tag (16)
//
// The additional data binds the blob to its key row (see sealAAD), so a
// blob copied onto another kid or alg fails to open. The version byte lets
// the format change (new AEAD, key wrapping) without guessing.
const (
	sealV1        byte = 0x01
	sealNonceSize      = 12
	sealTagSize        = 16
)

// MasterKeySize is the length in bytes of the master key that seals
// private keys (AES-256).
const MasterKeySize = 32

// SealPrivateKey encrypts k's private key with AES-256-GCM under masterKey
// (exactly MasterKeySize bytes), binding kid and alg as additional data.
// The plaintext is the PKCS#8 DER of the key; the nonce is random. k's ID
// must be the thumbprint of its private key's public part.
func SealPrivateKey(masterKey []byte, k *Key) ([]byte, error) {
	aead, err := sealAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	if k == nil || k.Private == nil {
		return nil, fmt.Errorf("%w: cannot seal", ErrNoPrivateKey)
	}
	if err := checkKeyPair(k.ID, k.Algorithm, k.Private); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("%w: private key cannot be encoded as PKCS#8", ErrInvalidKey)
	}
	defer clear(der)
	out := make([]byte, 1, 1+sealNonceSize+len(der)+sealTagSize)
	out[0] = sealV1
	// The random-nonce AEAD writes nonce || ciphertext || tag.
	return aead.Seal(out, nil, der, sealAAD(sealV1, k.ID, k.Algorithm)), nil
}

// OpenPrivateKey decrypts a sealed private key and returns the full key. It
// fails (matching ErrInvalidKey) if masterKey is not the one it was sealed
// with, if the blob was sealed for another id or alg or was altered, or if
// the opened key's thumbprint is not id or its type does not fit alg.
func OpenPrivateKey(masterKey []byte, id, alg string, sealed []byte) (*Key, error) {
	aead, err := sealAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	if !supportedAlg(alg) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	if len(sealed) < 1+sealNonceSize+sealTagSize {
		return nil, fmt.Errorf("%w: sealed key is truncated", ErrInvalidKey)
	}
	if sealed[0] != sealV1 {
		return nil, fmt.Errorf("%w: unknown sealed key format version %d", ErrInvalidKey, sealed[0])
	}
	der, err := aead.Open(nil, nil, sealed[1:], sealAAD(sealV1, id, alg))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot open sealed key (wrong master key, sealed for another key id or algorithm, or corrupted)", ErrInvalidKey)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed key is not PKCS#8", ErrInvalidKey)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: sealed key cannot sign", ErrInvalidKey)
	}
	if err := checkKeyPair(id, alg, priv); err != nil {
		return nil, err
	}
	return &Key{ID: id, Algorithm: alg, Public: priv.Public(), Private: priv}, nil
}

// checkKeyPair reports whether priv fits alg and its public part's
// thumbprint is id.
func checkKeyPair(id, alg string, priv crypto.Signer) error {
	pub := priv.Public()
	if err := checkPublic(alg, pub); err != nil {
		return err
	}
	got, err := thumbprint(pub)
	if err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("%w: key id is not the thumbprint of the private key's public part", ErrInvalidKey)
	}
	return nil
}

// sealAEAD returns AES-256-GCM with random 96-bit nonces under masterKey.
func sealAEAD(masterKey []byte) (cipher.AEAD, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("%w: master key must be %d bytes, got %d", ErrInvalidKey, MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("%w: master key rejected by AES", ErrInvalidKey)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot set up AES-GCM", ErrInvalidKey)
	}
	return aead, nil
}

// sealAAD is the additional data of a sealed key: a label, the format
// version, then alg and kid, each length-prefixed so no two (kid, alg)
// pairs share an encoding.
func sealAAD(version byte, id, alg string) []byte {
	const label = "authd/token sealed private key"
	aad := make([]byte, 0, len(label)+1+4+len(alg)+4+len(id))
	aad = append(aad, label...)
	aad = append(aad, version)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(alg)))
	aad = append(aad, alg...)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(id)))
	aad = append(aad, id...)
	return aad
}
