package mongostore

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/authd/authd/pkg/store"
)

// Compile-time checks: Store is a store.Store and a store.AuditLog.
var (
	_ store.Store    = (*Store)(nil)
	_ store.AuditLog = (*Store)(nil)
)

// Collection names.
const (
	collUsers      = "users"
	collSessions   = "sessions"
	collTokens     = "one_time_tokens"
	collClients    = "clients"
	collKeys       = "signing_keys"
	collMFA        = "mfa"
	collChallenges = "mfa_challenges"
	collAudit      = "audit_events"
	collCounters   = "counters"
	collLocks      = "locks"
	collMigrations = "schema_migrations"
	collClaims     = "claims"
	collLogins     = "logins"
)

// Store is the MongoDB implementation of store.Store and store.AuditLog.
// It is safe for concurrent use.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	cfg    config

	users, sessions, tokens, clients, keys, mfa, challenges, audit, counters, locks, migrations, claims, logins *mongo.Collection
}

// Open connects to the MongoDB deployment named by uri (mongodb:// or
// mongodb+srv://, as the official driver reads them). The database is the
// URI's path ("mongodb://host/mydb"), DefaultDatabase when it has none.
// Writes use majority write concern and reads the primary, so that a
// conditional update never acts on a state a failover could take back.
// Open pings the server; it never migrates (Migrate does).
func Open(ctx context.Context, uri string, opts ...Option) (*Store, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	dbName, err := databaseName(uri)
	if err != nil {
		return nil, err
	}
	co := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetReadPreference(readpref.Primary())
	if co.ServerSelectionTimeout == nil {
		co.SetServerSelectionTimeout(5 * time.Second)
	}
	if co.AppName == nil {
		co.SetAppName("authd")
	}
	client, err := mongo.Connect(co)
	if err != nil {
		// A malformed URI or option: not a reachability problem.
		return nil, fmt.Errorf("mongostore: open: %w", err)
	}
	s := newStore(client, client.Database(dbName), cfg)
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return s, nil
}

// databaseName reads the database from uri's path.
func databaseName(uri string) (string, error) {
	if !strings.HasPrefix(uri, "mongodb://") && !strings.HasPrefix(uri, "mongodb+srv://") {
		return "", fmt.Errorf("mongostore: open: the URI must start with mongodb:// or mongodb+srv://: %w", errInvalid)
	}
	u, err := url.Parse(uri)
	if err != nil {
		// url.Parse refuses some host lists the driver accepts
		// (mongodb://a,b/db); read the path by hand then.
		rest := uri[strings.Index(uri, "://")+3:]
		if i := strings.IndexAny(rest, "?"); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.Index(rest, "/"); i >= 0 {
			return orDefault(rest[i+1:]), nil
		}
		return DefaultDatabase, nil
	}
	return orDefault(strings.TrimPrefix(u.Path, "/")), nil
}

func orDefault(db string) string {
	if db == "" {
		return DefaultDatabase
	}
	return db
}

func newStore(client *mongo.Client, db *mongo.Database, cfg config) *Store {
	return &Store{
		client: client, db: db, cfg: cfg,
		users: db.Collection(collUsers), sessions: db.Collection(collSessions), tokens: db.Collection(collTokens),
		clients: db.Collection(collClients), keys: db.Collection(collKeys), mfa: db.Collection(collMFA),
		challenges: db.Collection(collChallenges), audit: db.Collection(collAudit),
		counters: db.Collection(collCounters), locks: db.Collection(collLocks), migrations: db.Collection(collMigrations),
		claims: db.Collection(collClaims), logins: db.Collection(collLogins),
	}
}

// Ping reports whether the primary answers; a failure is
// store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		// Whatever the reason, the store does not answer.
		return fmt.Errorf("mongostore: ping: %w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// Close disconnects from the deployment.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongostore: close: %w", err)
	}
	return nil
}

func (s *Store) now() time.Time { return s.cfg.now() }

// DatabaseName is the database the store uses.
func (s *Store) DatabaseName() string { return s.db.Name() }

// The mongodb and mongodb+srv schemes open this backend through
// store.Open (AUTHD_DATABASE_URL); a binary links it with a blank import.
func init() {
	for _, scheme := range []string{"mongodb", "mongodb+srv"} {
		store.Register(scheme, openBackend)
	}
}

func openBackend(ctx context.Context, uri string, cfg store.OpenConfig) (store.Store, error) {
	return Open(ctx, uri, WithLogger(cfg.Logger), WithClock(cfg.Now))
}
