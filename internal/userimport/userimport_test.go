package userimport_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/testenv/teststore"
	"github.com/authd/authd/internal/userimport"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return teststore.SQLite(t)
}

// events records what the service sends to its sink.
type events struct {
	mu  sync.Mutex
	all []auth.Event
}

func (e *events) Record(_ context.Context, ev auth.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) list() []auth.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

// newService is the real service on s, hashing at cost, its events in ev.
func newService(t *testing.T, s *sqlstore.Store, cost int, ev *events) *auth.Service {
	t.Helper()
	km, err := keys.New(s, keys.Config{Algorithm: "ES256", MasterKey: make([]byte, 32), MaxTokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config{
		Issuer: "https://auth.example", Audience: "api", ClientID: "authd",
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, Leeway: 5 * time.Second,
	}
	if ev != nil {
		cfg.Events = ev
	}
	svc, err := auth.New(cfg, s, denylist.NewMemory(), km, km, password.NewHasher(cost))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

var cli = auth.Device{UserAgent: "authd-cli users import"}

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
	svc := newService(t, s, 10, nil)
	rep, err := userimport.Import(context.Background(), svc, strings.NewReader(input), userimport.JSONLines, cli)
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
	rep, err = userimport.Import(context.Background(), svc, strings.NewReader(input), userimport.JSONLines, cli)
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
	svc := newService(t, s, 10, nil)
	rep, err := userimport.Import(context.Background(), svc, strings.NewReader(input), userimport.CSV, cli)
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
	if _, err := userimport.Import(context.Background(), svc, strings.NewReader("name,hash\n"), userimport.CSV, cli); err == nil {
		t.Fatal("a header without email/password_hash must be refused")
	}
}

// withCost relabels a cost-4 hash of pw with another cost: the import
// refuses on the cost field alone, and a real cost-31 hash takes hours.
func withCost(t *testing.T, pw string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s%02d%s", h[:4], cost, h[6:])
}

// Rows with a role outside the grammar, or a hash above the maximum cost,
// are skipped with their line and reason; the others are imported, lower
// costs counted, and every import is on the audit trail with its actor.
func TestImportValidatesRolesAndCost(t *testing.T) {
	s := newStore(t)
	ev := &events{}
	svc := newService(t, s, 11, ev)
	low := hashOf(t, "low cost password") // cost 10, below the service's 11
	input := strings.Join([]string{
		`{"email":"a@example.com","password_hash":"` + low + `","roles":["viewer,admin"]}`,
		`{"email":"b@example.com","password_hash":"` + low + `","roles":["admin\u0000"]}`,
		`{"email":"c@example.com","password_hash":"` + low + `","roles":["Admin"]}`,
		`{"email":"d@example.com","password_hash":"` + withCost(t, "x", 15) + `"}`,
		`{"email":"e@example.com","password_hash":"bcrypt_sha256$` + withCost(t, "x", 31) + `"}`,
		`{"email":"f@example.com","password_hash":"` + low + `","roles":["billing:read","viewer"]}`,
		`{"email":"g@example.com","password_hash":"` + withCost(t, "x", 14) + `"}`,
		`{"email":"h@example.com","password_hash":"` + low + `","roles":[""]}`,
	}, "\n")
	rep, err := userimport.Import(context.Background(), svc, strings.NewReader(input), userimport.JSONLines, cli)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{1: "invalid role", 2: "invalid role", 3: "invalid role", 4: "cost 15, at most 14", 5: "cost 31, at most 14", 8: "invalid role"}
	if rep.Imported != 2 || rep.LowCost != 1 || len(rep.Skipped) != len(want) {
		t.Fatalf("report = %+v; want 2 imported, 1 of them low-cost, %d skipped", rep, len(want))
	}
	for _, sk := range rep.Skipped {
		if !strings.Contains(sk.Reason, want[sk.Line]) {
			t.Errorf("line %d skipped for %q, want %q", sk.Line, sk.Reason, want[sk.Line])
		}
		if strings.ContainsRune(sk.Reason, 0) {
			t.Errorf("line %d: the reason carries a raw NUL: %q", sk.Line, sk.Reason)
		}
		if _, err := s.UserByEmail(context.Background(), sk.Email); err == nil {
			t.Errorf("line %d (%s) was skipped but the user exists", sk.Line, sk.Email)
		}
	}
	f, err := s.UserByEmail(context.Background(), "f@example.com")
	if err != nil || !slices.Equal(f.Roles, []string{"billing:read", "viewer"}) {
		t.Fatalf("f = %+v, %v", f, err)
	}

	var imports, grants, refused int
	for _, e := range ev.list() {
		if e.UserAgent != cli.UserAgent {
			t.Errorf("event %+v does not name the CLI as its actor", e)
		}
		switch {
		case e.Type == auth.EventUserImport && e.Outcome == auth.OutcomeSuccess:
			imports++
		case e.Type == auth.EventUserImport:
			refused++
		case e.Type == auth.EventRoleChange && e.UserID == f.ID && strings.HasPrefix(e.Detail, "grant:"):
			grants++
		}
	}
	if imports != 2 || grants != 2 || refused != len(want) {
		t.Fatalf("audit events: %d imports, %d role grants, %d refusals; want 2, 2, %d: %+v", imports, grants, refused, len(want), ev.list())
	}
}
