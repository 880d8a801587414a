package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/pkg/token"
)

// The fuzz targets use fixed keys and a fixed clock, so the valid tokens
// committed under testdata/fuzz stay valid. Regenerate that corpus with
//
//	go test -run TestFuzzCorpus ./pkg/token -update-corpus
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed fuzz seed corpus")

var fuzzNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzKeys returns one fixed key per algorithm: ES256 and EdDSA derived
// from fixed seeds, RS256 from testdata (a throwaway test key).
var fuzzKeys = sync.OnceValues(func() ([]*token.Key, error) {
	seed := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed("authd/token fuzz ES256"))
	if err != nil {
		return nil, err
	}
	ed := ed25519.NewKeyFromSeed(seed("authd/token fuzz EdDSA"))
	b, err := os.ReadFile(filepath.Join("testdata", "rsa2048_test_key.pem"))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("testdata/rsa2048_test_key.pem: no PEM block")
	}
	rs, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	var keys []*token.Key
	for _, p := range []struct {
		alg  string
		priv crypto.Signer
	}{{token.ES256, ec}, {token.EdDSA, ed}, {token.RS256, rs.(crypto.Signer)}} {
		k, err := token.NewKey(p.alg, p.priv)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

func mustFuzzKeys(t testing.TB) []*token.Key {
	t.Helper()
	keys, err := fuzzKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// fuzzVerifiers returns an access and a refresh verifier over the fuzz keys.
func fuzzVerifiers(t testing.TB) map[string]*token.Checker {
	t.Helper()
	keys := token.StaticKeySet(mustFuzzKeys(t))
	out := make(map[string]*token.Checker, 2)
	for _, typ := range []string{token.TypeAccess, token.TypeRefresh} {
		v, err := token.NewChecker(keys, token.WithIssuer(testIssuer), token.WithAudience(testAudience),
			token.WithType(typ), token.WithClock(clock(fuzzNow)))
		if err != nil {
			t.Fatal(err)
		}
		out[typ] = v
	}
	return out
}

// fuzzTokens are valid tokens for the fuzz verifiers, by name.
func fuzzTokens(t testing.TB) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, k := range mustFuzzKeys(t) {
		for _, typ := range []string{token.TypeAccess, token.TypeRefresh} {
			c := accessClaims()
			if typ == token.TypeRefresh {
				c = refreshClaims()
			}
			c.IssuedAt = token.NewNumericDate(fuzzNow.Add(-time.Minute))
			c.ExpiresAt = token.NewNumericDate(fuzzNow.Add(time.Hour))
			out[fmt.Sprintf("valid-%s-%s", strings.TrimSuffix(typ, "+jwt"), k.Algorithm)] = mustSign(t, k, typ, c)
		}
	}
	return out
}

func FuzzVerify(f *testing.F) {
	verifiers := fuzzVerifiers(f)
	keys := mustFuzzKeys(f)
	for _, raw := range fuzzTokens(f) {
		f.Add(raw)
	}
	for _, c := range negativeCases(f) {
		f.Add(c.token)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		for typ, v := range verifiers {
			c, err := v.Verify(ctx, raw)
			if err != nil {
				if c != nil {
					t.Fatal("claims returned with an error")
				}
				if !errors.Is(err, token.ErrInvalidToken) || errors.Is(err, token.ErrKeySetUnavailable) {
					t.Fatalf("error %q does not match ErrInvalidToken alone", err)
				}
				if len(raw) >= 8 && strings.Contains(err.Error(), raw) {
					t.Fatalf("error text contains the token")
				}
				continue
			}
			if c.Subject == "" || c.ID == "" || c.IssuedAt == nil || c.ExpiresAt == nil ||
				c.Issuer != testIssuer || (typ == token.TypeRefresh && c.SessionID == "") {
				t.Fatalf("accepted incomplete claims %+v", c)
			}
			if !c.ExpiresAt.Add(token.DefaultLeeway).After(fuzzNow) {
				t.Fatalf("accepted an expired token")
			}
			// Whatever we accept, go-jose must find validly signed by the
			// key its kid names, with the algorithm of that key.
			jws, err := jose.ParseSignedCompact(raw, joseAlgs)
			if err != nil {
				t.Fatalf("accepted; go-jose cannot parse it: %v", err)
			}
			h := jws.Signatures[0].Header
			var key *token.Key
			for _, k := range keys {
				if k.ID == h.KeyID {
					key = k
				}
			}
			if key == nil || key.Algorithm != h.Algorithm {
				t.Fatalf("accepted; kid %q alg %q do not name one of our keys", h.KeyID, h.Algorithm)
			}
			if _, err := jws.Verify(key.Public); err != nil {
				t.Fatalf("accepted; go-jose refuses the signature: %v", err)
			}
		}
	})
}

// jwksSeeds are JWK Set documents for FuzzParseJWKS, by name.
func jwksSeeds(t testing.TB) map[string]string {
	t.Helper()
	keys := mustFuzzKeys(t)
	ours, err := token.NewJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	var joseSet jose.JSONWebKeySet
	for _, k := range keys {
		joseSet.Keys = append(joseSet.Keys, jose.JSONWebKey{Key: k.Public, KeyID: "jose-" + k.Algorithm, Algorithm: k.Algorithm, Use: "sig"})
	}
	joseSet.Keys = append(joseSet.Keys, jose.JSONWebKey{Key: keys[2].Public, Algorithm: "PS256"})
	mixed := `{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","n":"AQAB","e":"AQAB"},` +
		`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","use":"enc"},` +
		`{"kty":"OKP","crv":"Ed25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},` +
		`{"kty":"EC","crv":"P-256","key_ops":["verify"],"x":"` + ours.Keys[0].X + `","y":"` + ours.Keys[0].Y + `"}]}`
	retired := ours
	retired.Keys = append([]token.JWK(nil), ours.Keys...)
	retired.Keys[0].RetiredAt = 1893456000
	return map[string]string{
		"ours":      string(mustJSON(t, ours)),
		"retired":   string(mustJSON(t, retired)),
		"go-jose":   string(mustJSON(t, joseSet)),
		"mixed":     mixed,
		"malformed": `{"keys":[{"kty":"EC"},1,null]`,
	}
}

func FuzzParseJWKS(f *testing.F) {
	for _, doc := range jwksSeeds(f) {
		f.Add([]byte(doc))
	}
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := token.ParseJWKS(data)
		if err != nil {
			if keys != nil || !errors.Is(err, token.ErrInvalidJWKS) {
				t.Fatalf("ParseJWKS = %d keys, %v", len(keys), err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		// What we parse we can publish, and parse back to the same keys.
		set, err := token.NewJWKS(keys)
		if err != nil {
			t.Fatalf("NewJWKS of parsed keys: %v", err)
		}
		again, err := token.ParseJWKS(mustJSON(t, set))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(keys) {
			t.Fatalf("re-parse: %d keys, want %d", len(again), len(keys))
		}
		for i, k := range keys {
			if k.Private != nil || again[i].ID != k.ID || again[i].Algorithm != k.Algorithm ||
				!again[i].Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Fatalf("key %d changed in a round trip", i)
			}
		}
	})
}

// TestFuzzCorpus checks that the committed valid seeds still verify (so the
// corpus keeps reaching the success path) and, with -update-corpus,
// rewrites the committed seeds.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz")
	if *updateCorpus {
		seeds := map[string]map[string]string{"FuzzVerify": fuzzTokens(t), "FuzzParseJWKS": jwksSeeds(t)}
		keys := mustFuzzKeys(t)
		ek := keys[0]
		h := enc(t, hdr(ek, token.TypeAccess))
		_, p, _ := segments(t, seeds["FuzzVerify"]["valid-at-ES256"])
		seeds["FuzzVerify"]["alg-none"] = enc(t, withHeader(hdr(ek, token.TypeAccess), "alg", "none")) + "." + p + "."
		seeds["FuzzVerify"]["hs256-public-key"] = hmacWithPublicKey(t, ek, true)
		seeds["FuzzVerify"]["crit"] = signRaw(t, ek, withHeader(hdr(ek, token.TypeAccess), "crit", []string{"exp"}), accessClaims())
		seeds["FuzzVerify"]["ecdsa-zero-sig"] = h + "." + p + "." + strings.Repeat("A", 86)
		for target, files := range seeds {
			if err := os.MkdirAll(filepath.Join(dir, target), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, v := range files {
				typ := "string"
				if target == "FuzzParseJWKS" {
					typ = "[]byte"
				}
				body := "go test fuzz v1\n" + typ + "(" + strconv.Quote(v) + ")\n"
				if err := os.WriteFile(filepath.Join(dir, target, "seed-"+name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	verifiers := fuzzVerifiers(t)
	files, err := filepath.Glob(filepath.Join(dir, "FuzzVerify", "seed-valid-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("%d committed valid seeds, want 6 (one per type and algorithm)", len(files))
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: not a corpus file", file)
		}
		raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		typ := token.TypeAccess
		if strings.Contains(file, "-refresh-") {
			typ = token.TypeRefresh
		}
		if _, err := verifiers[typ].Verify(context.Background(), raw); err != nil {
			t.Errorf("%s no longer verifies: %v", file, err)
		}
	}
}
