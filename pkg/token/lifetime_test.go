package token_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// retiredCopy returns a verification-only copy of k retired at at.
func retiredCopy(k *token.Key, at time.Time) *token.Key {
	return &token.Key{ID: k.ID, Algorithm: k.Algorithm, Public: k.Public, RetiredAt: at}
}

// withTimes returns access claims issued at iat and expiring at exp.
func withTimes(iat, exp time.Time) *token.Payload {
	c := accessClaims()
	c.IssuedAt, c.ExpiresAt = token.NewNumericDate(iat), token.NewNumericDate(exp)
	return c
}

func TestVerifyRefusesTokensIssuedAfterKeyRetirement(t *testing.T) {
	k := testKey(token.ES256)
	leeway := 5 * time.Second
	retired := testNow.Add(-10 * time.Minute)
	cases := []struct {
		name    string
		iat     time.Time
		retired time.Time
		ok      bool
	}{
		{"key not retired", testNow.Add(-time.Minute), time.Time{}, true},
		{"retirement in the future", testNow.Add(-time.Minute), testNow.Add(time.Hour), true},
		{"issued before retirement", retired.Add(-time.Minute), retired, true},
		{"issued at retirement", retired, retired, true},
		{"issued within the leeway after", retired.Add(leeway), retired, true},
		{"issued just past the leeway", retired.Add(leeway + time.Second), retired, false},
		{"issued long after retirement", testNow.Add(-time.Minute), retired, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifier(t, token.StaticKeySet{retiredCopy(k, c.retired)}, token.WithLeeway(leeway))
			raw := mustSign(t, k, token.TypeAccess, withTimes(c.iat, testNow.Add(time.Minute)))
			_, err := v.Verify(context.Background(), raw)
			if c.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !c.ok && (!errors.Is(err, token.ErrInvalidToken) || !strings.Contains(err.Error(), "retired")) {
				t.Fatalf("Verify = %v, want a refusal naming the retirement", err)
			}
		})
	}
}

func TestVerifyMaxLifetime(t *testing.T) {
	k := testKey(token.EdDSA)
	leeway := 5 * time.Second
	iat := testNow.Add(-time.Minute)
	cases := []struct {
		name string
		max  time.Duration // 0: option not given
		life time.Duration
		ok   bool
	}{
		{"no bound: a year is accepted", 0, 365 * 24 * time.Hour, true},
		{"exactly the bound", 15 * time.Minute, 15 * time.Minute, true},
		{"within the leeway", 15 * time.Minute, 15*time.Minute + leeway, true},
		{"past the leeway", 15 * time.Minute, 15*time.Minute + leeway + time.Second, false},
		{"thirty days against fifteen minutes", 15 * time.Minute, 30 * 24 * time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := []token.CheckerOption{token.WithLeeway(leeway)}
			if c.max > 0 {
				opts = append(opts, token.WithMaxLifetime(c.max))
			}
			v := newVerifier(t, allKeys(), opts...)
			_, err := v.Verify(context.Background(), mustSign(t, k, token.TypeAccess, withTimes(iat, iat.Add(c.life))))
			if c.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !c.ok && (!errors.Is(err, token.ErrInvalidToken) || !strings.Contains(err.Error(), "lifetime")) {
				t.Fatalf("Verify = %v, want a refusal naming the lifetime", err)
			}
		})
	}
	if _, err := token.NewChecker(allKeys(), token.WithIssuer(testIssuer), token.WithAudience(testAudience),
		token.WithMaxLifetime(-time.Second)); err == nil {
		t.Error("NewChecker accepted a negative maximum lifetime")
	}
}

func TestJWKSCarriesRetirement(t *testing.T) {
	k := testKey(token.ES256)
	retired := time.Date(2030, 1, 1, 0, 0, 0, 700_000_000, time.UTC)
	set, err := token.NewJWKS([]*token.Key{retiredCopy(k, retired), testKey(token.EdDSA)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"authd_retired_at":1893456000`) {
		t.Fatalf("JWKS does not carry the retirement (rounded down): %s", doc)
	}
	if strings.Count(string(doc), token.RetiredAtMember) != 1 {
		t.Fatalf("an unretired key carries %s: %s", token.RetiredAtMember, doc)
	}
	keys, err := token.ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[0].RetiredAt.Equal(retired.Truncate(time.Second)) || !keys[1].RetiredAt.IsZero() {
		t.Fatalf("parsed retirements = %v, %v", keys[0].RetiredAt, keys[1].RetiredAt)
	}
}

func TestParseJWKSRetiredAtMember(t *testing.T) {
	set, err := token.NewJWKS([]*token.Key{testKey(token.ES256)})
	if err != nil {
		t.Fatal(err)
	}
	base, err := json.Marshal(set.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	with := func(v string) []byte {
		return []byte(`{"keys":[` + strings.TrimSuffix(string(base), "}") + `,"authd_retired_at":` + v + `}]}`)
	}
	cases := []struct {
		name string
		val  string
		want time.Time // zero with ok: no retirement
		ok   bool
	}{
		{"integer", "1893456000", time.Unix(1893456000, 0), true},
		{"fractional", "1893456000.5", time.Unix(1893456000, 500_000_000), true},
		{"zero", "0", time.Time{}, false},
		{"string", `"1893456000"`, time.Time{}, false},
		{"negative", "-1", time.Time{}, false},
		{"null", "null", time.Time{}, false},
		{"bool", "true", time.Time{}, false},
		{"huge", "1e300", time.Time{}, false},
		{"object", "{}", time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys, err := token.ParseJWKS(with(c.val))
			if !c.ok {
				// The only key is skipped: trusting it without its
				// retirement would trust it more than its issuer does.
				if !errors.Is(err, token.ErrInvalidJWKS) || !strings.Contains(err.Error(), token.RetiredAtMember) {
					t.Fatalf("ParseJWKS = %v, %v; want the key skipped for its %s", keys, err, token.RetiredAtMember)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !keys[0].RetiredAt.Equal(c.want) {
				t.Fatalf("RetiredAt = %v, want %v", keys[0].RetiredAt, c.want)
			}
		})
	}
}

func TestSignAccessTokenAlwaysCarriesRoles(t *testing.T) {
	k := testKey(token.ES256)
	payload := func(raw string) map[string]json.RawMessage {
		t.Helper()
		_, p, _ := segments(t, raw)
		b, err := jwt.NewParser().DecodeSegment(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, roles := range [][]string{nil, {}} {
		c := accessClaims()
		c.Roles = roles
		raw := mustSign(t, k, token.TypeAccess, c)
		if got := string(payload(raw)["roles"]); got != "[]" {
			t.Errorf("roles %#v: claim = %q, want []", roles, got)
		}
		if c.Roles == nil && roles != nil || c.Roles != nil && roles == nil {
			t.Errorf("Sign modified the caller's claims")
		}
		got, err := newVerifier(t, allKeys()).Verify(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.Roles == nil || len(got.Roles) != 0 {
			t.Errorf("verified roles = %#v, want empty non-nil", got.Roles)
		}
	}
	c := accessClaims()
	if got := string(payload(mustSign(t, k, token.TypeAccess, c))["roles"]); got != `["admin","reader"]` {
		t.Errorf("roles claim = %s", got)
	}
	r := refreshClaims()
	if _, ok := payload(mustSign(t, k, token.TypeRefresh, r))["roles"]; ok {
		t.Error("a refresh token carries roles")
	}
}
