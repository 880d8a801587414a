package limits_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/loadgen/limits"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/store/sqlstore"
)

func TestMeasureBcrypt(t *testing.T) {
	b, err := limits.MeasureBcrypt(context.Background(), 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b.PerCompare <= 0 || b.CPUs < 1 || b.Rate() <= 0 || b.Samples != 3 {
		t.Fatalf("%+v, rate %v", b, b.Rate())
	}
	for _, bad := range []struct{ cost, samples int }{{3, 1}, {32, 1}, {4, 0}, {4, 1001}} {
		if _, err := limits.MeasureBcrypt(context.Background(), bad.cost, bad.samples); err == nil {
			t.Errorf("cost %d, samples %d accepted", bad.cost, bad.samples)
		}
	}
}

func TestMeasureJWT(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		j, err := limits.MeasureJWT(context.Background(), alg, 100*time.Millisecond, 0)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if j.Ops <= 0 || j.Rate() <= 0 || j.Alg != alg {
			t.Fatalf("%s: %+v", alg, j)
		}
	}
	j, err := limits.MeasureJWT(context.Background(), "ES256", time.Minute, 50)
	if err != nil {
		t.Fatal(err)
	}
	if j.Elapsed > 30*time.Second || j.Ops < 50 || j.Ops > 50+int64(j.Workers) {
		t.Fatalf("count bound: %+v", j)
	}
	if _, err := limits.MeasureJWT(context.Background(), "HS256", time.Second, 0); err == nil {
		t.Fatal("HS256 accepted")
	}
}

// TestMeasureRotation runs the bare rotation transaction on the test
// Postgres and checks its scratch schema is gone afterwards.
func TestMeasureRotation(t *testing.T) {
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRotation(t, db, dsn, `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'authbench\_%'`, "schema")
	if _, err := limits.MeasureRotation(context.Background(), dsn, 0, time.Second, 0); err == nil {
		t.Fatal("0 connections accepted")
	}
}

// TestMeasureRotationMySQL is TestMeasureRotation on the test MariaDB:
// the scratch database is gone afterwards.
func TestMeasureRotationMySQL(t *testing.T) {
	u := testenv.MySQL(t)
	dsn, err := sqlstore.MySQLDriverDSN(u)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRotation(t, db, u, `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'authbench!_%' ESCAPE '!'`, "database")
}

// checkRotation measures rotation on the database at url with four
// connections, and checks it got a rate and left no scratch what behind:
// countScratch counts them through db.
func checkRotation(t *testing.T, db *sql.DB, url, countScratch, what string) {
	t.Helper()
	count := func() int {
		var n int
		if err := db.QueryRow(countScratch).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	r, err := limits.MeasureRotation(context.Background(), url, 4, 300*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tx <= 0 || r.Rate() <= 0 || r.Conns != 4 {
		t.Fatalf("%+v", r)
	}
	if after := count(); after > before {
		t.Fatalf("scratch %s left behind: %d authbench_ %ss before, %d after", what, before, what, after)
	}
}

func TestWriteChecks(t *testing.T) {
	var b bytes.Buffer
	err := limits.WriteChecks(&b, []limits.Check{
		{Name: "login", Measured: 7.1, Bound: 7.7, Basis: "2 CPUs ÷ 260ms (bcrypt cost 12)", Target: 0.9},
		{Name: "verify", Measured: 5000, Bound: 25000, Basis: "golang-jwt ES256 verify on 2 CPUs", Target: 0.8},
		{Name: "refresh", Measured: 3000, Basis: "no -postgres", Target: 0.6},
		{Name: "verify", Measured: 9000, Bound: 10000, Basis: "golang-jwt ES256 verify on 2 CPUs", Target: 0.8,
			ServerCPU: 120 * time.Microsecond, BoundCPU: 80 * time.Microsecond, Other: 0.9},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ratio 0.92 (target ≥0.9)", "met", "ratio 0.20 (target ≥0.8)", "below target", "bound not measured (no -postgres)",
		"met (noisy: other processes took 0.90 cores)", "CPU/request 120µs vs 80µs: 0.67"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
