package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
	"github.com/authd/authd/pkg/store/storetest"
)

func TestMySQL(t *testing.T) {
	testenv.MySQL(t) // skip (or fail under CI) before running any case
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, testenv.MySQL(t))
	})
}

func TestMySQLAudit(t *testing.T) {
	testenv.MySQL(t)
	storetest.RunAudit(t, func(t *testing.T) (store.AuditLog, func(context.Context, string) error) {
		u := testenv.MySQL(t)
		return openMigrated(t, u), rawExecOn(t, "mysql", driverDSN(t, u))
	})
}

// driverDSN turns a mysql:// URL into the driver's own DSN form.
func driverDSN(t *testing.T, u string) string {
	t.Helper()
	cfg, err := sqlstore.MySQLConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.FormatDSN()
}

func TestMySQLMigrate(t *testing.T) {
	u := testenv.MySQL(t)
	s := openMigrated(t, u)
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	db, err := sql.Open("mysql", driverDSN(t, u))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every table InnoDB and utf8mb4_bin: exact comparisons, as elsewhere.
	rows, err := db.QueryContext(testCtx(t), `SELECT table_name, engine, table_collation FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, engine, coll string
		if err := rows.Scan(&name, &engine, &coll); err != nil {
			t.Fatal(err)
		}
		n++
		if engine != "InnoDB" || coll != "utf8mb4_bin" {
			t.Errorf("table %s: engine %s, collation %s; want InnoDB, utf8mb4_bin", name, engine, coll)
		}
	}
	if n < 10 {
		t.Errorf("%d tables, want every table of the schema", n)
	}
}

func TestMySQLConcurrentMigrate(t *testing.T) {
	u := testenv.MySQL(t)
	const n = 4
	stores := make([]*sqlstore.Store, n)
	for i := range stores {
		s, err := sqlstore.Open(testCtx(t), u)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(testCtx(t))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	if _, err := stores[0].CreateUser(testCtx(t), store.User{ID: "u", Email: "u@example.com", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser after concurrent migrations: %v", err)
	}
}

// The normalised email is unique byte for byte: forms a case- or
// accent-insensitive collation would fold together stay distinct users.
func TestMySQLEmailComparedExactly(t *testing.T) {
	s := openMigrated(t, testenv.MySQL(t))
	ctx := testCtx(t)
	for i, email := range []string{"andre@example.com", "andré@example.com", "andre @example.com"} {
		if _, err := s.CreateUser(ctx, store.User{ID: string(rune('a' + i)), Email: email, PasswordHash: "h"}); err != nil {
			t.Fatalf("CreateUser(%q): %v", email, err)
		}
	}
	if _, err := s.CreateUser(ctx, store.User{ID: "z", Email: "ANDRE@example.com", PasswordHash: "h"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("CreateUser of a taken email (other case): %v, want ErrAlreadyExists", err)
	}
	u, err := s.UserByEmail(ctx, "andré@example.com")
	if err != nil || u.ID != "b" {
		t.Fatalf("UserByEmail(andré): %+v, %v", u, err)
	}
}

func TestMySQLConfig(t *testing.T) {
	cases := []struct {
		name, url, wantErr string
		check              func(t *testing.T, c *mysql.Config)
	}{
		{name: "full", url: "mysql://authd:s%40cret@db.example:3307/authd?tls=skip-verify&readTimeout=3s", check: func(t *testing.T, c *mysql.Config) {
			if c.User != "authd" || c.Passwd != "s@cret" || c.Addr != "db.example:3307" || c.DBName != "authd" || c.TLSConfig != "skip-verify" {
				t.Errorf("config %+v", c)
			}
			if c.ReadTimeout.Seconds() != 3 || c.Timeout != sqlstore.DefaultMySQLConnectTimeout {
				t.Errorf("timeouts read %v dial %v", c.ReadTimeout, c.Timeout)
			}
		}},
		{name: "defaults forced", url: "mysql://root@localhost/test?parseTime=true&multiStatements=true&clientFoundRows=false&loc=Local", check: func(t *testing.T, c *mysql.Config) {
			if c.Addr != "localhost:3306" || c.ParseTime || c.MultiStatements || !c.ClientFoundRows || c.Loc.String() != "UTC" {
				t.Errorf("config %+v", c)
			}
			if !strings.Contains(c.FormatDSN(), "charset=utf8mb4") {
				t.Errorf("DSN %s lacks charset=utf8mb4", c.FormatDSN())
			}
		}},
		{name: "no database", url: "mysql://root@localhost:3306/", wantErr: "database"},
		{name: "no host", url: "mysql:///db", wantErr: "mysql://"},
		{name: "bad parameter", url: "mysql://root:pw@localhost/db?timeout=soon", wantErr: "parameters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := sqlstore.MySQLConfig(c.url)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

// TestMySQLUnavailable is TestPostgresUnavailable on MariaDB: cut away,
// every call is store.ErrUnavailable; back, the same Store works again.
func TestMySQLUnavailable(t *testing.T) {
	u, proxy := testenv.ProxyDSN(t, testenv.MySQL(t))
	s := openMigrated(t, u)
	now := time.Now()
	seed(t, s, now)

	proxy.Cut()
	for _, c := range storeCalls(s, now) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with MySQL cut: %v, want store.ErrUnavailable", c.name, err)
		}
	}

	proxy.Restore()
	for _, c := range storeCalls(s, now) {
		if err := c.call(testCtx(t)); err != nil {
			t.Errorf("%s after MySQL is back: %v", c.name, err)
		}
	}
}

// A server that accepts connections but never answers fails a call that
// needs a new connection within the default connect timeout.
func TestMySQLUnansweredIsUnavailable(t *testing.T) {
	u, proxy := testenv.ProxyDSN(t, testenv.MySQL(t))
	s := openMigrated(t, u)
	seed(t, s, time.Now())

	proxy.Blackhole()
	ctx, cancel := context.WithTimeout(context.Background(), 4*sqlstore.DefaultMySQLConnectTimeout)
	defer cancel()
	start := time.Now()
	_, err := s.UserByEmail(ctx, "a@example.com")
	if took := time.Since(start); !errors.Is(err, store.ErrUnavailable) || ctx.Err() != nil || took > 2*sqlstore.DefaultMySQLConnectTimeout {
		t.Fatalf("UserByEmail with MySQL not answering: %v after %v (context %v), want store.ErrUnavailable within about %v",
			err, took, ctx.Err(), sqlstore.DefaultMySQLConnectTimeout)
	}
	proxy.Restore()
	if _, err := s.UserByEmail(testCtx(t), "a@example.com"); err != nil {
		t.Fatalf("UserByEmail once MySQL answers again: %v", err)
	}
}
