package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/pkg/token"
)

func TestOptionsAfterConstructionHaveNoEffect(t *testing.T) {
	ek := testKey(token.ES256)
	v := newVerifier(t, allKeys())
	token.WithIssuer("https://evil.example")(v)
	token.WithType(token.TypeRefresh)(v)
	if _, err := v.Verify(context.Background(), mustSign(t, ek, token.TypeAccess, accessClaims())); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	keys := allKeys()
	iss, aud := token.WithIssuer(testIssuer), token.WithAudience(testAudience)
	tests := []struct {
		name    string
		keys    token.KeySet
		opts    []token.CheckerOption
		wantErr string // substring; "" means success
		is      error
	}{
		{name: "minimal", keys: keys, opts: []token.CheckerOption{iss, aud}},
		{name: "everything", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithType(token.TypeRefresh),
			token.WithAllowedAlgorithms(token.EdDSA), token.WithLeeway(token.MaxLeeway), token.WithClock(time.Now)}},
		{name: "nil options ignored", keys: keys, opts: []token.CheckerOption{iss, nil, aud}},
		{name: "no key set", opts: []token.CheckerOption{iss, aud}, wantErr: "key set"},
		{name: "no issuer", keys: keys, opts: []token.CheckerOption{aud}, wantErr: "WithIssuer"},
		{name: "empty issuer", keys: keys, opts: []token.CheckerOption{token.WithIssuer(""), aud}, wantErr: "WithIssuer"},
		{name: "no audience", keys: keys, opts: []token.CheckerOption{iss}, wantErr: "WithAudience"},
		{name: "empty audience list", keys: keys, opts: []token.CheckerOption{iss, token.WithAudience()}, wantErr: "WithAudience"},
		{name: "empty audience", keys: keys, opts: []token.CheckerOption{iss, token.WithAudience(testAudience, "")}, wantErr: "audience"},
		{name: "unknown type", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithType("JWT")}, wantErr: "type"},
		{name: "unknown algorithm", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithAllowedAlgorithms(token.ES256, "HS256")}, wantErr: "HS256", is: token.ErrUnsupportedAlg},
		{name: "none algorithm", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithAllowedAlgorithms("none")}, is: token.ErrUnsupportedAlg, wantErr: "none"},
		{name: "empty algorithm list", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithAllowedAlgorithms()}, is: token.ErrUnsupportedAlg, wantErr: "empty"},
		{name: "leeway too long", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithLeeway(token.MaxLeeway + time.Second)}, wantErr: "leeway"},
		{name: "leeway in minutes", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithLeeway(5 * time.Minute)}, wantErr: "leeway"},
		{name: "negative leeway", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithLeeway(-time.Second)}, wantErr: "leeway"},
		{name: "nil clock", keys: keys, opts: []token.CheckerOption{iss, aud, token.WithClock(nil)}, wantErr: "clock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := token.NewChecker(tc.keys, tc.opts...)
			if tc.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("NewChecker: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewChecker succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
		})
	}
}

func TestNewVerifierReportsEveryProblem(t *testing.T) {
	_, err := token.NewChecker(nil, token.WithLeeway(time.Hour), token.WithType("x"))
	if err == nil {
		t.Fatal("NewChecker succeeded")
	}
	for _, want := range []string{"key set", "WithIssuer", "WithAudience", "type", "leeway"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestWithAudienceCopiesItsArgument(t *testing.T) {
	aud := []string{testAudience}
	opt := token.WithAudience(aud...)
	aud[0] = "https://evil.example"
	v, err := token.NewChecker(allKeys(), token.WithIssuer(testIssuer), opt, token.WithClock(clock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mustSign(t, testKey(token.ES256), token.TypeAccess, accessClaims())); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
