package token_test

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/pkg/token"
)

// TestWithinValidityMatchesChecker holds WithinValidity to the Checker's
// own verdict at and around every time boundary, so the cache that calls
// it cannot admit a token the Checker would refuse, or the reverse.
func TestWithinValidityMatchesChecker(t *testing.T) {
	key, err := token.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	const leeway = 5 * time.Second
	iat := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := iat.Add(10 * time.Minute)
	nbf := iat.Add(time.Minute)
	tests := []struct {
		name string
		nbf  time.Time
		now  time.Time
		want bool
	}{
		{"inside", time.Time{}, iat.Add(time.Minute), true},
		{"iat minus leeway", time.Time{}, iat.Add(-leeway), true},
		{"before iat minus leeway", time.Time{}, iat.Add(-leeway - time.Second), false},
		{"exp plus leeway, just before", time.Time{}, exp.Add(leeway - time.Second), true},
		{"exp plus leeway", time.Time{}, exp.Add(leeway), false},
		{"nbf minus leeway", nbf, nbf.Add(-leeway), true},
		{"before nbf minus leeway", nbf, nbf.Add(-leeway - time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := token.RegisteredClaims{Issuer: "iss", Subject: "u1", Audience: token.ClaimStrings{"aud"}, ID: "j1",
				IssuedAt: token.NewNumericDate(iat), ExpiresAt: token.NewNumericDate(exp)}
			if !tt.nbf.IsZero() {
				rc.NotBefore = token.NewNumericDate(tt.nbf)
			}
			raw, err := token.Sign(key, token.TypeAccess, &token.Payload{RegisteredClaims: rc})
			if err != nil {
				t.Fatal(err)
			}
			v, err := token.NewChecker(token.StaticKeySet{key}, token.WithIssuer("iss"), token.WithAudience("aud"),
				token.WithLeeway(leeway), token.WithClock(func() time.Time { return tt.now }))
			if err != nil {
				t.Fatal(err)
			}
			_, verr := v.Verify(context.Background(), raw)
			if checker := verr == nil; checker != tt.want {
				t.Fatalf("Checker accepted = %v (%v), want %v", checker, verr, tt.want)
			}
			if got := token.WithinValidity(tt.now, iat, tt.nbf, exp, leeway); got != tt.want {
				t.Fatalf("WithinValidity = %v, want %v", got, tt.want)
			}
		})
	}
}
