package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
	"golang.org/x/crypto/bcrypt"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" means refused
	}{
		{"plain", "alice@example.com", "alice@example.com"},
		{"trimmed and lower-cased", "  Alice@Example.COM\t", "alice@example.com"},
		{"U-label domain becomes its A-label", "a@exämple.com", "a@xn--exmple-cua.com"},
		{"upper-case U-label", "A@EXÄMPLE.COM", "a@xn--exmple-cua.com"},
		{"decomposed ä (NFD) is the same domain", "a@exa\u0308mple.com", "a@xn--exmple-cua.com"},
		{"A-label kept", "a@xn--exmple-cua.com", "a@xn--exmple-cua.com"},
		{"upper-case A-label", "a@XN--EXMPLE-CUA.COM", "a@xn--exmple-cua.com"},
		{"ideographic full stop", "a@exämple\u3002com", "a@xn--exmple-cua.com"},
		{"non-transitional ß", "a@faß.de", "a@xn--fa-hia.de"},
		{"Unicode local part lower-cased, kept", "Ünï@example.com", "ünï@example.com"},
		{"plus address", "a+tag@example.com", "a+tag@example.com"},
		{"empty", "   ", ""},
		{"no at", "alice.example.com", ""},
		{"no local part", "@example.com", ""},
		{"no dot in domain", "a@localhost", ""},
		{"display name", "Alice <alice@example.com>", ""},
		{"IPv4 address literal", "user@[127.0.0.1]", ""},
		{"IPv6 address literal", "user@[IPv6:::1]", ""},
		{"bracket inside the domain", "user@exa[mple.com", ""},
		{"LRM", "a\u200e@example.com", ""},
		{"RLM in the domain", "a@exa\u200fmple.com", ""},
		{"ALM", "a@example.com\u061c", ""},
		{"RLO override", "\u202eliame@example.com", ""},
		{"LRE embedding", "a\u202a@example.com", ""},
		{"PDF", "a\u202c@example.com", ""},
		{"RLI isolate", "a@\u2067example.com", ""},
		{"PDI isolate", "a@example.com\u2069", ""},
		{"FSI isolate", "a\u2068@example.com", ""},
		{"invalid punycode", "a@xn--zz-.com", ""},
		{"underscore in the domain", "a@ex_ample.com", ""},
		{"label over 63 octets", "a@" + strings.Repeat("b", 64) + ".com", ""},
		{"local part over 64 octets", strings.Repeat("l", 65) + "@example.com", ""},
		{"over 254 octets", strings.Repeat("l", 60) + "@" + strings.Repeat(strings.Repeat("d", 60)+".", 4) + "com", ""},
		{"mixed-direction label (Bidi rule)", "a@\u05d0a.com", ""},
		{"space", "a b@example.com", ""},
		{"invalid UTF-8 in the domain", "0@\xa4.example", ""},
		{"invalid UTF-8 in the local part", "a\xff@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.NormalizeEmail(tt.in)
			if tt.want == "" {
				if !errors.Is(err, auth.ErrInvalidRequest) {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want ErrInvalidRequest", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// An account stored under a Unicode domain by an earlier release (the
// store only lower-cases) is still found by login, whichever spelling the
// user types, and its address cannot be registered a second time in the
// A-label spelling.
func TestUnicodeDomainAccountsOfEarlierReleases(t *testing.T) {
	f, _ := withUnicodeDomainUser(t)
	ctx := context.Background()
	for _, email := range []string{"ann@exämple.com", "ann@xn--exmple-cua.com", "Ann@EXÄMPLE.com"} {
		if _, err := f.svc.Login(ctx, email, "correct horse battery", auth.Device{}); err != nil {
			t.Errorf("login as %q: %v", email, err)
		}
	}
	if u, err := f.svc.UserByEmail(ctx, "ann@xn--exmple-cua.com"); err != nil || u.ID != "old" {
		t.Errorf("UserByEmail = %+v, %v; want the stored account", u, err)
	}
	for _, email := range []string{"ann@xn--exmple-cua.com", "ann@exämple.com"} {
		if _, err := f.svc.Register(ctx, email, "another horse battery", auth.Device{}); !errors.Is(err, auth.ErrEmailTaken) {
			t.Errorf("register %q beside the old spelling: %v, want ErrEmailTaken", email, err)
		}
	}
	// New accounts are stored in the A-label form.
	u, err := f.svc.Register(ctx, "bo@bücher.example", "correct horse battery", auth.Device{})
	if err != nil || u.Email != "bo@xn--bcher-kva.example" {
		t.Fatalf("register = %q, %v; want the A-label form", u.Email, err)
	}
	if _, err := f.svc.Login(ctx, "bo@xn--bcher-kva.example", "correct horse battery", auth.Device{}); err != nil {
		t.Fatalf("login with the A-label: %v", err)
	}
}

// FuzzNormalizeEmail checks what every accepted address looks like: a
// fixed point (normalising again changes nothing), an ASCII domain without
// brackets, no bidi control anywhere, within RFC 5321's length.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@exämple.com", "A@XN--EXMPLE-CUA.COM", "user@[127.0.0.1]", "\u202eliame@example.com",
		"a@faß.de", "\"q\"@example.com", "a@exämple\u3002com", "Ünï@example.com", "a@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		email, err := auth.NormalizeEmail(raw)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidRequest) {
				t.Fatalf("NormalizeEmail(%q) = %v, want ErrInvalidRequest", raw, err)
			}
			return
		}
		again, err := auth.NormalizeEmail(email)
		if err != nil || again != email {
			t.Fatalf("NormalizeEmail(%q) = %q, but again = %q, %v", raw, email, again, err)
		}
		at := strings.LastIndexByte(email, '@')
		domain := email[at+1:]
		for i := 0; i < len(domain); i++ {
			if c := domain[i]; c >= 0x80 || c == '[' || c == ']' || c >= 'A' && c <= 'Z' {
				t.Fatalf("NormalizeEmail(%q) = %q: the domain is not lower-case ASCII LDH", raw, email)
			}
		}
		if len(email) > 254 || strings.ContainsAny(email, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Fatalf("NormalizeEmail(%q) = %q", raw, email)
		}
	})
}

// withUnicodeDomainUser is a fixture holding "ann@exämple.com" (password
// "correct horse battery") stored in its Unicode spelling, as releases
// before IDNA normalisation stored it; it returns the fixture and the hash.
func withUnicodeDomainUser(t *testing.T) (fixture, string) {
	t.Helper()
	f := newFixture(t, denylist.NewMemory(), 10)
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateUser(context.Background(), store.User{ID: "old", Email: "ann@exämple.com", PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	return f, string(hash)
}
