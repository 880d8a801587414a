package userimport_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/userimport"
	"github.com/authd/authd/pkg/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func hashOf(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestImportJSONLinesIsIdempotent(t *testing.T) {
	s := newStore(t)
	good := hashOf(t, "first password")
	input := strings.Join([]string{
		`{"email":"Ann@Example.com","password_hash":"` + good + `","email_verified":true,"roles":["admin","admin"]}`,
		`{"email":"bob@example.com","password_hash":"bcrypt$` + good + `"}`,
		`{"email":"not-an-email","password_hash":"` + good + `"}`,
		`{"email":"cy@example.com","password_hash":"md5$abc"}`,
		`{"email":"ann@example.com","password_hash":"` + good + `"}`,
		`not json`,
		``,
	}, "\n")
	rep, err := userimport.Import(context.Background(), s, strings.NewReader(input), userimport.JSONLines, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 2 || len(rep.Skipped) != 4 {
		t.Fatalf("report = %+v", rep)
	}
	wantReasons := map[int]string{3: "invalid email", 4: "unsupported hash", 5: "duplicate", 6: "not a JSON object"}
	for _, sk := range rep.Skipped {
		if !strings.Contains(sk.Reason, wantReasons[sk.Line]) {
			t.Errorf("line %d skipped for %q, want %q", sk.Line, sk.Reason, wantReasons[sk.Line])
		}
	}
	ann, err := s.UserByEmail(context.Background(), "ann@example.com")
	if err != nil || !ann.EmailVerified || len(ann.Roles) != 1 || ann.Roles[0] != "admin" {
		t.Fatalf("ann = %+v, %v", ann, err)
	}
	if ok, _, err := password.NewHasher(10).Compare(context.Background(), ann.PasswordHash, "first password"); !ok || err != nil {
		t.Fatal("imported hash does not verify")
	}

	// Again: nothing new, every valid row reported as existing.
	rep, err = userimport.Import(context.Background(), s, strings.NewReader(input), userimport.JSONLines, time.Now)
	if err != nil || rep.Imported != 0 {
		t.Fatalf("second import = %+v, %v", rep, err)
	}
	exists := 0
	for _, sk := range rep.Skipped {
		if strings.Contains(sk.Reason, "already exists") {
			exists++
		}
	}
	if exists != 2 {
		t.Fatalf("second import should skip 2 existing users: %+v", rep.Skipped)
	}
}

func TestImportCSV(t *testing.T) {
	s := newStore(t)
	good := hashOf(t, "second password")
	input := "email,password_hash,email_verified,roles\n" +
		"dee@example.com," + good + ",true,editor;viewer\n" +
		"eve@example.com," + good + ",maybe,\n" +
		"\"unterminated,x\n"
	rep, err := userimport.Import(context.Background(), s, strings.NewReader(input), userimport.CSV, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 1 || len(rep.Skipped) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	dee, err := s.UserByEmail(context.Background(), "dee@example.com")
	if err != nil || len(dee.Roles) != 2 || !dee.EmailVerified {
		t.Fatalf("dee = %+v, %v", dee, err)
	}
	if _, err := userimport.Import(context.Background(), s, strings.NewReader("name,hash\n"), userimport.CSV, time.Now); err == nil {
		t.Fatal("a header without email/password_hash must be refused")
	}
}
