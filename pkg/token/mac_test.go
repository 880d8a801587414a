package token_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// macSet is a MACKeySet over fixed keys; err, when set, is returned for
// every lookup.
type macSet struct {
	keys []*token.MACKey
	err  error
}

func (s macSet) MACKey(_ context.Context, kid string) (*token.MACKey, error) {
	if s.err != nil {
		return nil, s.err
	}
	for _, k := range s.keys {
		if k.ID == kid {
			return k, nil
		}
	}
	return nil, token.ErrUnknownKey
}

var testMaster = bytes.Repeat([]byte{7}, 32)

func deriveKey(t testing.TB, master []byte, id string) *token.MACKey {
	t.Helper()
	k, err := token.DeriveMACKey(master, "test purpose", id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func refreshVerifier(t testing.TB, set token.MACKeySet) *token.Checker {
	t.Helper()
	return newVerifier(t, allKeys(), token.WithAudience(testAudience), token.WithType(token.TypeRefresh), token.WithMACKeys(set))
}

// macRaw MACs claims under an arbitrary header with golang-jwt directly,
// to build tokens SignMAC refuses to make.
func macRaw(t testing.TB, m jwt.SigningMethod, header map[string]any, secret []byte, c any) string {
	t.Helper()
	claims, ok := c.(jwt.Claims)
	if !ok {
		claims = claimsMap(t, c.(*token.Payload))
	}
	tok := &jwt.Token{Method: m, Header: header, Claims: claims}
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMACRefreshTokenRoundTrip(t *testing.T) {
	k := deriveKey(t, testMaster, "r.one")
	raw, err := token.SignMAC(k, token.TypeRefresh, refreshClaims())
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := segments(t, raw)
	if want := enc(t, map[string]any{"alg": "HS256", "kid": "r.one", "typ": token.TypeRefresh}); h != want {
		t.Errorf("header %s, want %s", h, want)
	}
	got, err := refreshVerifier(t, macSet{keys: []*token.MACKey{k}}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	sameClaims(t, got, refreshClaims())

	// The same master and id derive the same key (another replica); the
	// same id under another master does not.
	if _, err := refreshVerifier(t, macSet{keys: []*token.MACKey{deriveKey(t, testMaster, "r.one")}}).Verify(t.Context(), raw); err != nil {
		t.Errorf("a key derived again does not verify: %v", err)
	}
	other := deriveKey(t, bytes.Repeat([]byte{8}, 32), "r.one")
	if _, err := refreshVerifier(t, macSet{keys: []*token.MACKey{other}}).Verify(t.Context(), raw); !errors.Is(err, token.ErrInvalidToken) {
		t.Errorf("another master's key: err = %v, want ErrInvalidToken", err)
	}
}

// Signed (pre-HS256) refresh tokens still verify, so sessions survive the
// upgrade.
func TestMACVerifierStillAcceptsSignedRefreshTokens(t *testing.T) {
	raw := mustSign(t, testKey(token.ES256), token.TypeRefresh, refreshClaims())
	if _, err := refreshVerifier(t, macSet{}).Verify(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
}

func TestMACRefusals(t *testing.T) {
	goodSecret := bytes.Repeat([]byte{42}, 32)
	k, err := token.NewMACKey("r.one", goodSecret)
	if err != nil {
		t.Fatal(err)
	}
	es := testKey(token.ES256)
	pubDER, err := es.MarshalPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(alg, kid, typ string) map[string]any { return map[string]any{"alg": alg, "kid": kid, "typ": typ} }
	tests := []struct {
		name     string
		verifier *token.Checker
		raw      string
		want     error
	}{
		{"wrong secret", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeRefresh), bytes.Repeat([]byte{1}, 32), refreshClaims()), token.ErrInvalidToken},
		{"unknown kid", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.two", token.TypeRefresh), goodSecret, refreshClaims()), token.ErrUnknownKey},
		{"no kid", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, map[string]any{"alg": "HS256", "typ": token.TypeRefresh}, goodSecret, refreshClaims()), token.ErrUnknownKey},
		{"HS512 is not HS256", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS512, hdr("HS512", "r.one", token.TypeRefresh), goodSecret, refreshClaims()), token.ErrInvalidToken},
		{"MACed access token, refresh verifier", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeAccess), goodSecret, accessClaims()), token.ErrWrongType},
		{"MACed access token, access verifier", newVerifier(t, allKeys()),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeAccess), goodSecret, accessClaims()), token.ErrInvalidToken},
		{"HS256 with the public key as secret (alg confusion)", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", es.ID, token.TypeRefresh), pubDER, refreshClaims()), token.ErrUnknownKey},
		{"HS256 refresh token, verifier without MAC keys", newVerifier(t, allKeys(), token.WithAudience(testAudience), token.WithType(token.TypeRefresh)),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeRefresh), goodSecret, refreshClaims()), token.ErrInvalidToken},
		{"expired", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeRefresh), goodSecret, claimsMap(t, refreshClaims(), "exp", testNow.Add(-10*time.Minute).Unix())), token.ErrExpired},
		{"no sid", refreshVerifier(t, macSet{keys: []*token.MACKey{k}}),
			macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeRefresh), goodSecret, claimsMap(t, refreshClaims(), "sid", nil)), token.ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.verifier.Verify(t.Context(), tc.raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(fmt.Sprint(err), tc.raw) {
				t.Errorf("error text contains the token")
			}
		})
	}
	// The good secret really is the key's: the same header and claims
	// with it verify, so the refusals above are about what they change.
	ok := macRaw(t, jwt.SigningMethodHS256, hdr("HS256", "r.one", token.TypeRefresh), goodSecret, refreshClaims())
	if _, err := refreshVerifier(t, macSet{keys: []*token.MACKey{k}}).Verify(t.Context(), ok); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
}

// A MAC key set that cannot answer is not the token's fault.
func TestMACKeySetUnavailable(t *testing.T) {
	k := deriveKey(t, testMaster, "r.one")
	raw, err := token.SignMAC(k, token.TypeRefresh, refreshClaims())
	if err != nil {
		t.Fatal(err)
	}
	v := refreshVerifier(t, macSet{err: fmt.Errorf("%w: store down", token.ErrKeySetUnavailable)})
	_, err = v.Verify(t.Context(), raw)
	if !errors.Is(err, token.ErrKeySetUnavailable) || errors.Is(err, token.ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrKeySetUnavailable and not ErrInvalidToken", err)
	}
}

func TestWithMACKeysOnlyForRefreshTokens(t *testing.T) {
	_, err := token.NewChecker(allKeys(), token.WithIssuer(testIssuer), token.WithAudience(testAudience), token.WithMACKeys(macSet{}))
	if err == nil || !strings.Contains(err.Error(), "WithMACKeys") {
		t.Fatalf("err = %v, want a configuration error naming WithMACKeys", err)
	}
}

func TestSignMACRefusals(t *testing.T) {
	k := deriveKey(t, testMaster, "r.one")
	noSID := refreshClaims()
	noSID.SessionID = ""
	tests := []struct {
		name string
		key  *token.MACKey
		typ  string
		c    *token.Payload
		want error
	}{
		{"access token", k, token.TypeAccess, accessClaims(), token.ErrWrongType},
		{"nil key", nil, token.TypeRefresh, refreshClaims(), token.ErrInvalidKey},
		{"zero key", &token.MACKey{ID: "r.x"}, token.TypeRefresh, refreshClaims(), token.ErrInvalidKey},
		{"no sid", k, token.TypeRefresh, noSID, token.ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.SignMAC(tc.key, tc.typ, tc.c); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewMACKeyRefusals(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		secret []byte
	}{
		{"no id", "", make([]byte, 32)},
		{"short secret", "k", make([]byte, 31)},
		{"long secret", "k", make([]byte, 33)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.NewMACKey(tc.id, tc.secret); !errors.Is(err, token.ErrInvalidKey) {
				t.Fatalf("err = %v, want ErrInvalidKey", err)
			}
		})
	}
	if _, err := token.DeriveMACKey(make([]byte, 16), "p", "k"); !errors.Is(err, token.ErrInvalidKey) {
		t.Fatalf("short master: err = %v, want ErrInvalidKey", err)
	}
}

// The secret never reaches logs or formatted output.
func TestMACKeyNeverPrintsItsSecret(t *testing.T) {
	secret := bytes.Repeat([]byte("s3cr"), 8)
	k, err := token.NewMACKey("r.kid", secret)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "k", k, "v", *k)
	outputs := []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v %+v %#v", *k, *k, *k), logged.String()}
	for _, out := range outputs {
		if !strings.Contains(out, "r.kid") {
			t.Errorf("output %q does not name the key", out)
		}
		for _, leak := range []string{"s3cr", fmt.Sprint(secret), fmt.Sprintf("%x", secret)} {
			if strings.Contains(out, leak) {
				t.Errorf("output %q contains the secret", out)
			}
		}
	}
}
