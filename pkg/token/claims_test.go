package token_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/authd/authd/pkg/token"
)

// TestRegisteredClaimsJSON: the claims of our own encode and decode as
// golang-jwt's did, aud always as an array and times in whole seconds.
func TestRegisteredClaimsJSON(t *testing.T) {
	at := time.Unix(1767225600, 0)
	tests := []struct {
		name string
		in   string
		want token.RegisteredClaims
		out  string
	}{
		{
			name: "aud as one string",
			in:   `{"iss":"i","sub":"s","aud":"a","exp":1767225600,"jti":"j"}`,
			want: token.RegisteredClaims{Issuer: "i", Subject: "s", Audience: token.ClaimStrings{"a"}, ExpiresAt: token.NewNumericDate(at), ID: "j"},
			out:  `{"iss":"i","sub":"s","aud":["a"],"exp":1767225600,"jti":"j"}`,
		},
		{
			name: "aud as an array, fractional iat truncated",
			in:   `{"aud":["a","b"],"iat":1767225600.75,"nbf":1767225600}`,
			want: token.RegisteredClaims{Audience: token.ClaimStrings{"a", "b"}, IssuedAt: token.NewNumericDate(at), NotBefore: token.NewNumericDate(at)},
			out:  `{"aud":["a","b"],"nbf":1767225600,"iat":1767225600}`,
		},
		{
			name: "empty",
			in:   `{}`,
			out:  `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got token.RegisteredClaims
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if !equalClaims(got, tt.want) {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.out {
				t.Errorf("encoded %s, want %s", b, tt.out)
			}
		})
	}
}

// TestRegisteredClaimsJSONRefuses: a claim of the wrong type is an error.
func TestRegisteredClaimsJSONRefuses(t *testing.T) {
	for _, in := range []string{`{"exp":"soon"}`, `{"aud":7}`, `{"aud":["a",7]}`, `{"iat":true}`} {
		var c token.RegisteredClaims
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s decoded as %+v, want an error", in, c)
		}
	}
}

func equalClaims(a, b token.RegisteredClaims) bool {
	date := func(x, y *token.NumericDate) bool {
		return x == nil && y == nil || x != nil && y != nil && x.Equal(y.Time)
	}
	if len(a.Audience) != len(b.Audience) {
		return false
	}
	for i := range a.Audience {
		if a.Audience[i] != b.Audience[i] {
			return false
		}
	}
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.ID == b.ID &&
		date(a.ExpiresAt, b.ExpiresAt) && date(a.NotBefore, b.NotBefore) && date(a.IssuedAt, b.IssuedAt)
}
