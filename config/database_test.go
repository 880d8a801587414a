package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/config"
)

func TestDatabaseURL(t *testing.T) {
	const key = "AUTHD_MASTER_KEY"
	master := "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=" // 32 bytes
	cases := []struct {
		url     string
		ok      bool
		backend string
	}{
		{"", true, "sqlite"},
		{"sqlite:/var/lib/authd/authd.db", true, "sqlite"},
		{"sqlite:///var/lib/authd/authd.db?_pragma=synchronous(FULL)", true, "sqlite"},
		{"postgres://authd:pw@db:5432/authd?sslmode=require", true, "postgres"},
		{"postgresql://authd@db/authd", true, "postgres"},
		{"mysql://authd:pw@db:3306/authd?tls=true", true, "mysql"},
		{"mongodb://authd:pw@mongo1,mongo2/authd?replicaSet=rs0", true, "mongodb"},
		{"mongodb+srv://authd:pw@cluster.example.net/", true, "mongodb+srv"},
		{"sqlite:", false, ""},
		{"mysql://db:3306", false, ""},
		{"mysql:db", false, ""},
		{"postgres://", false, ""},
		{"redis://localhost:6379", false, ""},
		{"/var/lib/authd.db", false, ""},
		{"MYSQL://db/authd", false, ""},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			cfg, err := config.Load("", envOf(map[string]string{"AUTHD_DATABASE_URL": c.url, key: master}))
			if !c.ok {
				var cerr *config.Error
				if !errors.As(err, &cerr) || len(cerr.Problems) != 1 {
					t.Fatalf("err %v, want exactly one problem", err)
				}
				p := cerr.Problems[0]
				if !strings.HasPrefix(p, "AUTHD_DATABASE_URL: ") || !strings.Contains(p, "mysql://") || !strings.Contains(p, "mongodb+srv://") {
					t.Fatalf("problem %q: want one line naming the variable and the schemes", p)
				}
				if strings.Contains(p, "pw") || strings.Contains(p, "\n") {
					t.Fatalf("problem %q shows the URL or spans lines", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.DatabaseBackend(); got != c.backend {
				t.Errorf("DatabaseBackend() = %q, want %q", got, c.backend)
			}
			if cfg.UsesSharedDatabase() != (c.backend != "sqlite") {
				t.Errorf("UsesSharedDatabase() = %v", cfg.UsesSharedDatabase())
			}
		})
	}
}
