package userimport_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/userimport"
	"github.com/authd/authd/pkg/store"
)

// Export writes what Import reads: the users of one store arrive in
// another as they were, across more than one page.
func TestExportThenImport(t *testing.T) {
	ctx := t.Context()
	src := newStore(t)
	base := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	const n = 501 // two pages
	hash := hashOf(t, "correct horse battery")
	for i := range n {
		u := store.User{ID: "u" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Email: "user" + strings.Repeat("1", i%7) + "-" + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + "@example.com",
			PasswordHash: hash, EmailVerified: i%2 == 0, Disabled: i%5 == 0, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		if i%3 == 0 {
			u.Roles = []string{"editor", "viewer"}
		}
		if _, err := src.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	got, err := userimport.Export(ctx, src, &buf, userimport.JSONLines)
	if err != nil || got != n {
		t.Fatalf("Export: %d, %v", got, err)
	}
	if _, err := userimport.Export(ctx, src, &bytes.Buffer{}, userimport.CSV); err == nil {
		t.Error("Export as CSV: want an error")
	}

	dst := newStore(t)
	rep, err := userimport.Import(ctx, newService(t, dst, 10, nil), &buf, userimport.JSONLines, cli)
	if err != nil || rep.Imported != n || len(rep.Skipped) != 0 {
		t.Fatalf("Import: %+v, %v", rep, err)
	}
	want, err := src.ListUsers(ctx, store.UserQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		g, err := dst.UserByEmail(ctx, w.Email)
		if err != nil {
			t.Fatal(err)
		}
		if g.PasswordHash != w.PasswordHash || g.EmailVerified != w.EmailVerified || g.Disabled != w.Disabled ||
			!g.CreatedAt.Equal(w.CreatedAt) || strings.Join(g.Roles, ",") != strings.Join(w.Roles, ",") {
			t.Fatalf("imported %+v, exported %+v", g, w)
		}
	}
}

func TestImportReadsDisabledAndCreatedAt(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	hash := hashOf(t, "correct horse battery")
	in := "email,password_hash,disabled,created_at\n" +
		"a@example.com," + hash + ",true,2020-01-02T03:04:05.000006Z\n" +
		"b@example.com," + hash + ",maybe,\n" +
		"c@example.com," + hash + ",false,yesterday\n"
	rep, err := userimport.Import(ctx, newService(t, s, 10, nil), strings.NewReader(in), userimport.CSV, cli)
	if err != nil || rep.Imported != 1 || len(rep.Skipped) != 2 {
		t.Fatalf("Import: %+v, %v", rep, err)
	}
	u, err := s.UserByEmail(ctx, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled || !u.CreatedAt.Equal(time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)) {
		t.Fatalf("imported %+v", u)
	}
}
