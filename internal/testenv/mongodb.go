package testenv

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvMongoDBURL names the MongoDB-protocol server the MongoDB suites use.
// There is no default: none runs on this machine unless started for the
// tests (.ci/run starts FerretDB from pkg/store/mongostore/ferrettest).
const EnvMongoDBURL = "AUTHD_TEST_MONGODB_URL"

// MongoDB returns the URL of a fresh database on the server
// AUTHD_TEST_MONGODB_URL names, dropped when t ends. Without the variable
// the test skips, or fails under AUTHD_TEST_REQUIRE_SERVICES=1.
func MongoDB(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvMongoDBURL)
	if base == "" {
		unavailable(t, "MongoDB", errors.New(EnvMongoDBURL+" is not set (.ci/run starts FerretDB and sets it)"))
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		t.Fatalf("%s: want mongodb://host:port[/…] (%v)", EnvMongoDBURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(base).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		t.Fatalf("mongodb client: %v", err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		unavailable(t, "MongoDB", err)
	}
	name := RandomName("authd_test_")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Database(name).Drop(ctx); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		_ = client.Disconnect(ctx)
	})
	u.Path = "/" + name
	return u.String()
}
