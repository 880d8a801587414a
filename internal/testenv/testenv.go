// Package testenv gives tests the real Postgres, MySQL/MariaDB and Redis servers of the
// machine, isolated per test, and decides what happens when they are absent:
// skip with a reason on a laptop, fail when AUTHD_TEST_REQUIRE_SERVICES=1
// (as CI sets it).
package testenv

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq" // Postgres driver for schema setup.
	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	EnvRequireServices = "AUTHD_TEST_REQUIRE_SERVICES"
	EnvPostgresURL     = "AUTHD_TEST_POSTGRES_URL"
	EnvRedisURL        = "AUTHD_TEST_REDIS_URL"
	EnvMySQLURL        = "AUTHD_TEST_MYSQL_URL"

	defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
	defaultMySQLURL    = "mysql://root@127.0.0.1:3306/test"
)

// RequireServices reports whether missing services must fail tests.
func RequireServices() bool { return os.Getenv(EnvRequireServices) == "1" }

// unavailable skips the test, or fails it when services are required.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if RequireServices() {
		t.Fatalf("%s is required (%s=1) but unavailable: %v", what, EnvRequireServices, err)
	}
	t.Skipf("skipping: %s unavailable (%v); set %s to point at one", what, err, map[string]string{"Postgres": EnvPostgresURL, "Redis": EnvRedisURL, "MySQL": EnvMySQLURL}[what])
}

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresURL returns the base DSN of the test server.
func PostgresURL() string { return cmp.Or(os.Getenv(EnvPostgresURL), defaultPostgresURL) }

// Postgres creates a fresh schema on the test server and returns a DSN whose
// connections use it (search_path), so parallel tests never see each
// other's tables. The schema is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	db, err := sql.Open("postgres", base)
	if err != nil {
		unavailable(t, "Postgres", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unavailable(t, "Postgres", err)
	}
	schema := RandomName("authd_test_")
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns the URL of the shared test Redis.
func RedisURL() string { return cmp.Or(os.Getenv(EnvRedisURL), defaultRedisURL) }

// Redis returns a client to the shared test Redis and a key prefix unique to
// this test; keys under the prefix are deleted when the test ends. Tests
// share the server with others running at the same time, so they must only
// touch keys under their prefix and never flush.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("parse %s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		unavailable(t, "Redis", err)
	}
	prefix := RandomName("authdtest:") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}

// MySQLURL returns the base URL (mysql://user:pass@host:port/db) of the
// test MySQL or MariaDB server; its user must be allowed to create and
// drop databases.
func MySQLURL() string { return cmp.Or(os.Getenv(EnvMySQLURL), defaultMySQLURL) }

// MySQL creates a fresh database (authd_test_<random>) on the test server
// and returns the mysql:// URL of it, so parallel tests never see each
// other's tables. The database is dropped when the test ends.
func MySQL(t testing.TB) string {
	t.Helper()
	base := MySQLURL()
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		t.Fatalf("%s: want mysql://user:pass@host:port/db (%v)", EnvMySQLURL, err)
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("mysql connector: %v", err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unavailable(t, "MySQL", err)
	}
	name := RandomName("authd_test_")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		db.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		db.Close()
	})
	u.Path = "/" + name
	return u.String()
}
