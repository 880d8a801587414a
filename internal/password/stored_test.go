package password_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/internal/password"
	"golang.org/x/crypto/bcrypt"
)

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// djangoSHA256 builds a hash the way Django's BCryptSHA256PasswordHasher
// does: bcrypt over the hex SHA-256 of the password.
func djangoSHA256(t *testing.T, pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return "bcrypt_sha256$" + bcryptOf(t, hex.EncodeToString(sum[:]))
}

func TestImportedFormats(t *testing.T) {
	h := password.NewHasher(10)
	long := strings.Repeat("long passphrase ", 8) // 128 bytes
	y := bcryptOf(t, "php secret 1")
	y = y[:2] + "y" + y[3:] // PHP's $2y$ is the same algorithm
	tests := []struct {
		name, stored, pw string
		match, rehash    bool
	}{
		{"native 2b", bcryptOf(t, "correct horse"), "correct horse", true, false},
		{"php 2y", y, "php secret 1", true, false},
		{"django bcrypt", "bcrypt$" + bcryptOf(t, "django pw 1"), "django pw 1", true, true},
		{"django bcrypt wrong", "bcrypt$" + bcryptOf(t, "django pw 1"), "django pw 2", false, false},
		{"django bcrypt_sha256", djangoSHA256(t, "django pw 2"), "django pw 2", true, true},
		{"django bcrypt_sha256 long password", djangoSHA256(t, long), long, true, true},
		{"django bcrypt_sha256 wrong", djangoSHA256(t, "django pw 2"), "django pw 3", false, false},
		{"raw password hashed before NFKC", bcryptOf(t, "ｐａｓｓ word"), "ｐａｓｓ word", true, true},
		{"garbage hash", "plaintext", "plaintext", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match, rehash := compare(t, h, tt.stored, tt.pw)
			if match != tt.match || rehash != tt.rehash {
				t.Fatalf("Compare = %v, %v; want %v, %v", match, rehash, tt.match, tt.rehash)
			}
		})
	}
}

func TestParseStored(t *testing.T) {
	good := bcryptOf(t, "x")
	tests := []struct {
		name, in, format string
	}{
		{"bcrypt", good, password.FormatBcrypt},
		{"django", "bcrypt$" + good, password.FormatDjangoBcrypt},
		{"django sha256", "bcrypt_sha256$" + good, password.FormatDjangoBcryptSHA256},
		{"md5", "md5$salt$abc", ""},
		{"truncated", good[:50], ""},
		{"2x version", "$2x$" + good[4:], ""},
		{"pbkdf2", "pbkdf2_sha256$600000$salt$hash", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := password.ParseStored(tt.in)
			if tt.format == "" {
				if !errors.Is(err, password.ErrUnsupportedHash) {
					t.Fatalf("err = %v, want ErrUnsupportedHash", err)
				}
				return
			}
			if err != nil || s.Format() != tt.format || s.Cost() != 10 {
				t.Fatalf("ParseStored = %v (%s, cost %d)", err, s.Format(), s.Cost())
			}
		})
	}
}
