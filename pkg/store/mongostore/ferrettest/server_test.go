package ferrettest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store/mongostore"
)

// serverURL is the MongoDB-protocol server every test uses: the one
// AUTHD_TEST_MONGODB_URL names, or the embedded FerretDB TestMain starts.
var serverURL string

// embedded is true when serverURL is the FerretDB TestMain started.
var embedded bool

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("AUTHD_TEST_MONGODB_URL"); u != "" {
		serverURL = u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "ferrettest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start FerretDB:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "FerretDB:", err)
		}
	}()
	serverURL, embedded = f.MongoDBURI(), true
	code := m.Run()
	cancel()
	<-done
	return code
}

// withDatabase returns uri with its path set to db.
func withDatabase(t testing.TB, uri, db string) string {
	t.Helper()
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		t.Fatalf("AUTHD_TEST_MONGODB_URL %q has no scheme", uri)
	}
	hosts, query, _ := strings.Cut(rest, "?")
	hosts, _, _ = strings.Cut(hosts, "/")
	out := scheme + "://" + hosts + "/" + url.PathEscape(db)
	if query != "" {
		out += "?" + query
	}
	return out
}

// openFresh opens a migrated store on a database of its own, dropped when
// t ends. The TTL retention is long because the suite's clock is in the
// past: a real MongoDB's TTL monitor must not delete what a case reads.
func openFresh(t testing.TB, opts ...mongostore.Option) *mongostore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := "authd_test_" + strings.ToLower(rand.Text()[:12])
	opts = append([]mongostore.Option{mongostore.WithTTLRetention(20 * 365 * 24 * time.Hour)}, opts...)
	s, err := mongostore.Open(ctx, withDatabase(t, serverURL, db), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		t.Fatalf("Migrate: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Close()
		if err := rawClient(t).Database(db).Drop(ctx); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
	return s
}

// rawClient is a plain driver client to the server, for what goes around
// the store: dropping test databases, the bare rotation of the benchmark.
func rawClient(t testing.TB) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(serverURL))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}
