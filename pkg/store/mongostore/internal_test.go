package mongostore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/authd/authd/pkg/store"
)

func TestDatabaseName(t *testing.T) {
	cases := []struct {
		name, uri, want string
		bad             bool
	}{
		{"path", "mongodb://localhost:27017/mydb", "mydb", false},
		{"no path", "mongodb://localhost:27017", DefaultDatabase, false},
		{"empty path", "mongodb://localhost/", DefaultDatabase, false},
		{"options", "mongodb://u:p@localhost/authd_prod?replicaSet=rs0&authSource=admin", "authd_prod", false},
		{"host list", "mongodb://a:27017,b:27017/db1?replicaSet=rs0", "db1", false},
		{"srv", "mongodb+srv://cluster0.example.net/authd2?retryWrites=true", "authd2", false},
		{"other scheme", "postgres://localhost/db", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := databaseName(c.uri)
			if (err != nil) != c.bad {
				t.Fatalf("databaseName(%q) error %v, want error %v", c.uri, err, c.bad)
			}
			if got != c.want {
				t.Errorf("databaseName(%q) = %q, want %q", c.uri, got, c.want)
			}
		})
	}
}

func TestMapErr(t *testing.T) {
	dup := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}
	cases := []struct {
		name    string
		err     error
		want    error
		notWant error
	}{
		{"duplicate key", dup, store.ErrAlreadyExists, store.ErrUnavailable},
		{"no document", mongo.ErrNoDocuments, store.ErrNotFound, store.ErrUnavailable},
		{"shutting down", mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, store.ErrUnavailable, store.ErrNotFound},
		{"not primary", mongo.CommandError{Code: 10107}, store.ErrUnavailable, nil},
		{"network", mongo.CommandError{Labels: []string{"NetworkError"}}, store.ErrUnavailable, nil},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), store.ErrUnavailable, nil},
		{"cancelled", context.Canceled, context.Canceled, store.ErrUnavailable},
		{"bad query", mongo.CommandError{Code: 2, Name: "BadValue"}, nil, store.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mapErr("op", c.err)
			if c.want != nil && !errors.Is(got, c.want) {
				t.Errorf("mapErr(%v) = %v, want it to match %v", c.err, got, c.want)
			}
			if c.notWant != nil && errors.Is(got, c.notWant) {
				t.Errorf("mapErr(%v) = %v, must not match %v", c.err, got, c.notWant)
			}
		})
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := Open(t.Context(), "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200&connectTimeoutMS=200")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of an unreachable server: %v, want store.ErrUnavailable", err)
	}
}
