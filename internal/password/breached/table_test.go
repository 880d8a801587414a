package breached

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"flag"
	"os"
	"slices"
	"testing"
)

// update rewrites table.bin from passwords.txt.gz:
//
//	go test ./internal/password/breached -run TestTable -update
var update = flag.Bool("update", false, "rewrite table.bin from passwords.txt.gz")

//go:embed passwords.txt.gz
var list []byte

// TestTable: the embedded table is exactly the sorted, duplicate-free
// hashes of the list's entries, so it cannot drift from the list, the key
// or the hash.
func TestTable(t *testing.T) {
	want, err := buildTable(list)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("table.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote table.bin: %d hashes", len(want)/8)
		return
	}
	if table != string(want) {
		t.Fatalf("table.bin (%d hashes) is not the table of passwords.txt.gz (%d hashes); run with -update after changing either, the key or the hash",
			len(table)/8, len(want)/8)
	}
}

// buildTable decompresses a gzipped list, one password a line, into the
// table's bytes. A carriage return ending a line is dropped.
func buildTable(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var hashes []uint64
	sc := bufio.NewScanner(zr)
	// A few lines of the source are junk several kilobytes long.
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSuffix(sc.Bytes(), []byte("\r")); len(line) > 0 {
			hashes = append(hashes, hash(string(line)))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	out := make([]byte, 0, 8*len(hashes))
	for _, h := range hashes {
		out = binary.LittleEndian.AppendUint64(out, h)
	}
	return out, nil
}

func TestBuildTableRejectsCorruptData(t *testing.T) {
	if _, err := buildTable([]byte("not gzip")); err == nil {
		t.Fatal("buildTable accepted data that is not gzip")
	}
	if _, err := buildTable(list[:len(list)/2]); err == nil {
		t.Fatal("buildTable accepted a truncated list")
	}
}
