package breached_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	_ "embed"
	"strings"
	"testing"

	"github.com/authd/authd/internal/password/breached"
)

//go:embed passwords.txt.gz
var raw []byte

// lines returns the entries of the embedded list, in file order, with the
// carriage returns of the source's CRLF lines dropped as the package does.
func lines(t testing.TB) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKnownEntries(t *testing.T) {
	all := lines(t)
	if len(all) != 207_195 {
		t.Fatalf("embedded list has %d lines, want 207,195 (LICENSE.data describes it)", len(all))
	}
	n := len(all)
	tests := []struct {
		name string
		pw   string
	}{
		{"first line", all[0]},
		{"second line", all[1]},
		{"middle line", all[n/2]},
		{"line at one third", all[n/3]},
		{"second to last line", all[n-2]},
		{"last line", all[n-1]},
		{"upper case of an entry", strings.ToUpper(all[0])},
		{"mixed case", "PaSsWoRd1"},
		{"capitalised", "Iloveyou"},
		{"fullwidth forms (NFKC)", "ｐａｓｓｗｏｒｄ１"},
		{"fullwidth upper case", "ＰＡＳＳＷＯＲＤ１"},
		{"non-ASCII entry", "asdfghjklÃ±"},
		{"non-ASCII entry upper-cased", "ASDFGHJKLÃ±"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !breached.Contains(tt.pw) {
				t.Errorf("Contains(%q) = false, want true", tt.pw)
			}
		})
	}
}

// TestEveryEntry checks the whole list, in every case form: a listed
// password is never missed.
func TestEveryEntry(t *testing.T) {
	for i, pw := range lines(t) {
		if !breached.Contains(pw) {
			t.Fatalf("line %d %q not found", i+1, pw)
		}
		if up := strings.ToUpper(pw); !breached.Contains(up) {
			t.Fatalf("line %d upper-cased %q not found", i+1, up)
		}
	}
}

func TestNotListed(t *testing.T) {
	for _, pw := range []string{
		"",
		"correct horse battery staple piano",
		"Tr0ub4dor&3-but-longer-this-time",
		"glacier marmalade 47 quietly",
		"пароль-которого-нет-в-списке",
		"password1password1password1password1", // a listed one repeated is not listed
	} {
		if breached.Contains(pw) {
			t.Errorf("Contains(%q) = true, want false", pw)
		}
	}
	// Random 22-character passphrases (128 bits each): a hit would be a
	// hash collision, probability about 2×10⁻¹⁴ per lookup.
	for range 10_000 {
		pw := rand.Text()
		if breached.Contains(pw) {
			t.Fatalf("random passphrase %q reported as breached", pw)
		}
	}
}

func TestLen(t *testing.T) {
	// Folding case and dropping CRs merges about 7,000 lines.
	if n := breached.Len(); n < 195_000 || n > 207_195 {
		t.Fatalf("Len() = %d, want about 200,000 distinct keys", n)
	}
}

func BenchmarkContains(b *testing.B) {
	for _, bc := range []struct{ name, pw string }{
		{"listed", "baseball"},
		{"listed mixed case", "BaseBall1"},
		{"not listed", "glacier marmalade 47 quietly"},
		{"non-ASCII", "pâtisserie-déjà-vu"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				breached.Contains(bc.pw)
			}
		})
	}
}
