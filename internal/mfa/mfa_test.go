package mfa_test

import (
	"bytes"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/mfa"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewTOTP(t *testing.T) {
	e, err := mfa.NewTOTP("auth.example.com", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret) != 32 { // 160 bits in unpadded base32
		t.Fatalf("secret %q: want 32 base32 characters", e.Secret)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("URI %q: %v", e.URI, err)
	}
	q := u.Query()
	if q.Get("secret") != e.Secret || q.Get("issuer") != "auth.example.com" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("URI parameters: %v", q)
	}
	if _, err := png.Decode(bytes.NewReader(e.QRPNG)); err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	again, _ := mfa.NewTOTP("auth.example.com", "ada@example.com")
	if again.Secret == e.Secret {
		t.Fatal("two enrolments got the same secret")
	}
}

func TestMatchTOTP(t *testing.T) {
	e, err := mfa.NewTOTP("auth.example.com", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0) // mid-step
	step := mfa.StepAt(now)
	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		ok       bool
	}{
		{"current step", codeAt(t, e.Secret, now), 0, step, true},
		{"previous step (skew)", codeAt(t, e.Secret, now.Add(-30*time.Second)), 0, step - 1, true},
		{"next step (skew)", codeAt(t, e.Secret, now.Add(30*time.Second)), 0, step + 1, true},
		{"two steps back", codeAt(t, e.Secret, now.Add(-60*time.Second)), 0, 0, false},
		{"two steps ahead", codeAt(t, e.Secret, now.Add(60*time.Second)), 0, 0, false},
		{"replay of the accepted step", codeAt(t, e.Secret, now), step, 0, false},
		{"an earlier step after a later one was accepted", codeAt(t, e.Secret, now.Add(-30*time.Second)), step, 0, false},
		{"spaces around are fine", " " + codeAt(t, e.Secret, now) + " ", 0, step, true},
		{"too short", "12345", 0, 0, false},
		{"letters", "12a456", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mfa.MatchTOTP(e.Secret, tt.code, now, tt.lastStep)
			if ok != tt.ok || got != tt.wantStep {
				t.Fatalf("MatchTOTP = %d, %v; want %d, %v", got, ok, tt.wantStep, tt.ok)
			}
		})
	}
}

func TestSealer(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	s, err := mfa.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	blob := s.Seal("user-1", "JBSWY3DPEHPK3PXP")
	if bytes.Contains(blob, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("sealed blob holds the secret in clear")
	}
	got, err := s.Open("user-1", blob)
	if err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	otherMaster, _ := mfa.NewSealer(bytes.Repeat([]byte{8}, 32))
	tampered := bytes.Clone(blob)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() (string, error){
		"another user":       func() (string, error) { return s.Open("user-2", blob) },
		"another master key": func() (string, error) { return otherMaster.Open("user-1", blob) },
		"altered":            func() (string, error) { return s.Open("user-1", tampered) },
		"unknown version":    func() (string, error) { return s.Open("user-1", append([]byte{2}, blob[1:]...)) },
		"empty":              func() (string, error) { return s.Open("user-1", nil) },
	} {
		if _, err := open(); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := mfa.NewSealer(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, digests := mfa.NewRecoveryCodes(mfa.RecoveryCodeCount)
	if len(codes) != 10 || len(digests) != 10 {
		t.Fatalf("got %d codes, %d digests", len(codes), len(digests))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] {
			t.Fatalf("code %q: want xxxx-xxxx-xxxx-xxxx, all distinct", c)
		}
		seen[c] = true
		for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), strings.ReplaceAll(c, "-", " ")} {
			d, ok := mfa.RecoveryCodeDigest(typed)
			if !ok || !bytes.Equal(d, digests[i]) {
				t.Fatalf("typed %q: digest does not match its code's", typed)
			}
		}
	}
	// Look-alikes are read as the letters they resemble.
	zeroOne := "0000-1111-0000-1111"
	want, _ := mfa.RecoveryCodeDigest(zeroOne)
	if got, ok := mfa.RecoveryCodeDigest("oooo-iiii-OOOO-LLLL"); !ok || !bytes.Equal(got, want) {
		t.Fatal("o, i and l are not read as 0 and 1")
	}
	for _, bad := range []string{"", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrst", "abcd-efgh-jkmn-pqr!", "uuuu-uuuu-uuuu-uuuu", strings.Repeat("a", 100)} {
		if _, ok := mfa.RecoveryCodeDigest(bad); ok {
			t.Errorf("%q accepted as a recovery code", bad)
		}
	}
}

func TestChallenge(t *testing.T) {
	tok, digest := mfa.NewChallenge()
	if len(tok) != 43 {
		t.Fatalf("mfa_token %q: want 43 base64url characters (256 bits)", tok)
	}
	got, err := mfa.ChallengeDigest(tok)
	if err != nil || !bytes.Equal(got, digest) {
		t.Fatalf("ChallengeDigest = %x, %v", got, err)
	}
	other, _ := mfa.NewChallenge()
	for _, bad := range []string{"", tok[:42], tok + "A", strings.Replace(tok, tok[:1], "+", 1), other[:42] + "="} {
		if _, err := mfa.ChallengeDigest(bad); !errors.Is(err, mfa.ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", bad, err)
		}
	}
}
