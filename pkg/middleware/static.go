package middleware

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/authd/authd/pkg/token"
)

// ErrInvalidKeyData matches every error of StaticKeysFromPEM,
// StaticKeysFromJWK and StaticKeysFromJWKS.
var ErrInvalidKeyData = errors.New("middleware: invalid key data")

// StaticKeysFromPEM returns a fixed key set of the "PUBLIC KEY" (PKIX)
// blocks of data, for services that cannot reach authd. The algorithm
// cannot be read from a PEM block, so alg (token.ES256, token.EdDSA or
// token.RS256) is given and every key must fit it. Each key's id is its
// RFC 7638 thumbprint, the kid authd puts in its tokens. Blocks of other
// types (such as certificates or private keys) are refused.
func StaticKeysFromPEM(alg string, data []byte) (token.StaticKeySet, error) {
	var keys []*token.Key
	for i := 0; ; i++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: PEM block %d is %q, want \"PUBLIC KEY\"", ErrInvalidKeyData, i, b.Type)
		}
		k, err := pkixKey(alg, b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d: %w", ErrInvalidKeyData, i, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM block found", ErrInvalidKeyData)
	}
	if strings.TrimSpace(string(data)) != "" {
		return nil, fmt.Errorf("%w: trailing data after the last PEM block", ErrInvalidKeyData)
	}
	return staticSet(keys)
}

// pkixKey parses a PKIX public key for alg and gives it its thumbprint
// id; token.ParsePublicKey checks the key against alg and the id.
func pkixKey(alg string, der []byte) (*token.Key, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a PKIX public key")
	}
	kid, err := token.Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return token.ParsePublicKey(kid, alg, der)
}

// StaticKeysFromJWK returns a fixed key set of one JWK (a JSON object),
// under the rules of token.ParseJWKS: a signature key ("use" absent or
// "sig") of a supported type, public members only, used only with its own
// "alg"; its id is "kid", or the thumbprint when absent.
func StaticKeysFromJWK(data []byte) (token.StaticKeySet, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidKeyData)
	}
	set, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{[]json.RawMessage{data}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyData, err)
	}
	return StaticKeysFromJWKS(set)
}

// StaticKeysFromJWKS returns a fixed key set of the usable keys of a JWK
// Set document, under the rules of token.ParseJWKS (see StaticKeysFromJWK);
// unusable keys are skipped, and no usable key at all is an error.
func StaticKeysFromJWKS(data []byte) (token.StaticKeySet, error) {
	keys, err := token.ParseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyData, err)
	}
	return staticSet(keys)
}

func staticSet(keys []*token.Key) (token.StaticKeySet, error) {
	s, err := token.NewStaticKeySet(keys...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeyData, err)
	}
	return s, nil
}
