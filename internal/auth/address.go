package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/authd/authd/pkg/store"
	"golang.org/x/net/idna"
)

// maxEmailLength is RFC 5321's limit on a forward path.
const maxEmailLength = 254

// maxRawEmailLength bounds the input before the domain is converted: a
// U-label domain can be shorter in UTF-8 than its A-label, but not by this
// much, and the IDNA work stays bounded.
const maxRawEmailLength = 4 * maxEmailLength

// emailDomains converts and checks the domain of an address: the UTS #46
// mapping for lookup (case folding, width mapping, NFC), the label rules
// of RFC 5891 (hyphens, joiners, the Bidi rule of RFC 5893), LDH ASCII
// only, DNS lengths, and non-transitional processing (ß stays ß, as
// browsers and registries now treat it).
var emailDomains = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true), idna.Transitional(false))

// NormalizeEmail returns the one stored spelling of an email address, or
// ErrInvalidRequest. It trims the address, lower-cases the local part and
// converts the domain to its IDNA A-label (punycode) form, so that
// "a@exämple.com", "A@EXÄMPLE.COM" and "a@xn--exmple-cua.com" are one
// account; the address must then be a plain addr-spec (no display name, no
// comments, no quoting that changes it).
//
// Refused outright: bidirectional control characters anywhere (they make
// an address display as another one), and address literals such as
// user@[127.0.0.1] (no mailbox provider uses them; they mail a host
// directly and slip past domain allow-lists).
//
// The A-label is stored because it is the single ASCII spelling of a
// domain: no two Unicode forms of one name, nothing confusable in storage,
// and SMTP servers accept it everywhere.
func NormalizeEmail(raw string) (string, error) {
	email := strings.TrimSpace(raw)
	if email == "" {
		return "", fail(ErrInvalidRequest, "email is required")
	}
	if len(email) > maxRawEmailLength {
		return "", fail(ErrInvalidRequest, "email is too long")
	}
	if !utf8.ValidString(email) {
		// The IDNA mapping would turn a stray byte into U+FFFD and
		// encode that, an A-label that fails its own validation.
		return "", fail(ErrInvalidRequest, "email is not valid UTF-8")
	}
	if strings.ContainsFunc(email, isBidiControl) {
		return "", fail(ErrInvalidRequest, "email must not contain bidirectional control characters")
	}
	invalid := fail(ErrInvalidRequest, "email is not a valid address")
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return "", invalid
	}
	local, domain := strings.ToLower(email[:at]), email[at+1:]
	if strings.ContainsAny(domain, "[]") {
		return "", fail(ErrInvalidRequest, "email address literals such as user@[127.0.0.1] are not accepted")
	}
	domain, err := emailDomains.ToASCII(domain)
	if err != nil {
		return "", invalid
	}
	email = local + "@" + domain
	if len(email) > maxEmailLength {
		return "", fail(ErrInvalidRequest, "email is too long")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(local) > 64 ||
		!strings.Contains(domain, ".") || strings.ContainsAny(email, " \t\r\n<>") {
		return "", invalid
	}
	return email, nil
}

// isBidiControl reports whether r is one of Unicode's explicit
// bidirectional formatting characters: LRM, RLM, ALM, the embeddings and
// overrides (U+202A–U+202E) and the isolates (U+2066–U+2069).
func isBidiControl(r rune) bool {
	switch {
	case r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// unicodeSpelling returns the spelling a release before A-label
// normalisation stored for the normalised email (its domain as U-labels,
// lower-cased), when that differs from email.
func unicodeSpelling(email string) (string, bool) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || !strings.Contains(email[at+1:], "xn--") {
		return "", false
	}
	u, err := emailDomains.ToUnicode(email[at+1:])
	if err != nil || u == email[at+1:] {
		return "", false
	}
	return email[:at+1] + u, true
}

// userByEmail finds the account of a normalised email. Accounts registered
// before domains were stored as A-labels keep their Unicode spelling, so
// when the A-label finds nothing that spelling is tried too: the owner of
// "a@exämple.com" logs in whichever way they type it.
func (s *Service) userByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	legacy, ok := unicodeSpelling(email)
	if !ok {
		return u, err
	}
	if lu, lerr := s.store.UserByEmail(ctx, legacy); !errors.Is(lerr, store.ErrNotFound) {
		return lu, lerr
	}
	return u, err
}

// takenByOldSpelling returns store.ErrAlreadyExists when an account holds
// email under the Unicode spelling an older release stored: the store's
// uniqueness cannot see that the two are one address.
func (s *Service) takenByOldSpelling(ctx context.Context, email string) error {
	legacy, ok := unicodeSpelling(email)
	if !ok {
		return nil
	}
	_, err := s.store.UserByEmail(ctx, legacy)
	switch {
	case err == nil:
		return fmt.Errorf("auth: %s is registered as %s: %w", email, legacy, store.ErrAlreadyExists)
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return err
}

// UserByEmail returns the account of email (normalised first, and found
// under an older spelling as login finds it), for admin tools. An invalid
// or unknown address is ErrNotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (store.User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, fail(ErrNotFound, "no such user")
	}
	u, err := s.userByEmail(ctx, norm)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fail(ErrNotFound, "no such user")
	}
	return u, err
}
