package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/token"
)

func TestStaticKeySet(t *testing.T) {
	ek, dk, rk := testKey(token.ES256), testKey(token.EdDSA), testKey(token.RS256)
	tests := []struct {
		name string
		set  token.StaticKeySet
		kid  string
		want *token.Key // nil: ErrUnknownKey
	}{
		{"by kid", token.StaticKeySet{ek, dk, rk}, dk.ID, dk},
		{"last", token.StaticKeySet{ek, dk, rk}, rk.ID, rk},
		{"unknown kid", token.StaticKeySet{ek, dk}, rk.ID, nil},
		{"empty kid, one key", token.StaticKeySet{ek}, "", ek},
		{"empty kid, two keys", token.StaticKeySet{ek, dk}, "", nil},
		{"empty kid, no key", token.StaticKeySet{}, "", nil},
		{"empty kid, one nil key", token.StaticKeySet{nil}, "", nil},
		{"nil set", nil, ek.ID, nil},
		{"nil entries skipped", token.StaticKeySet{nil, ek}, ek.ID, ek},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.set.VerificationKey(context.Background(), tc.kid)
			if tc.want == nil {
				if !errors.Is(err, token.ErrUnknownKey) || got != nil {
					t.Fatalf("got %v, %v; want ErrUnknownKey", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want.ID)
			}
		})
	}
}

func TestNewStaticKeySet(t *testing.T) {
	ek, dk := testKey(token.ES256), testKey(token.EdDSA)
	set, err := token.NewStaticKeySet(ek, dk)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := set.VerificationKey(context.Background(), dk.ID); err != nil || k != dk {
		t.Fatalf("lookup: %v, %v", k, err)
	}
	tests := []struct {
		name    string
		keys    []*token.Key
		mention []string
	}{
		{"nil key", []*token.Key{ek, nil}, []string{"key 1 is nil"}},
		{"no id", []*token.Key{{Algorithm: token.ES256, Public: ek.Public}}, []string{"no id"}},
		{"duplicate id", []*token.Key{ek, ek}, []string{"used twice"}},
		{"alg does not fit", []*token.Key{{ID: "a", Algorithm: token.RS256, Public: ek.Public}}, []string{"RS256"}},
		{"unknown alg", []*token.Key{{ID: "a", Algorithm: "HS256", Public: ek.Public}}, []string{"HS256"}},
		{"every problem", []*token.Key{nil, {ID: "a", Algorithm: "HS256"}, ek, ek}, []string{"nil", "HS256", "twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := token.NewStaticKeySet(tc.keys...)
			if err == nil {
				t.Fatal("NewStaticKeySet succeeded")
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
	keys := []*token.Key{ek}
	set, _ = token.NewStaticKeySet(keys...)
	keys[0] = dk
	if set[0] != ek {
		t.Error("NewStaticKeySet does not copy its argument")
	}
}
