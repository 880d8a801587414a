package sqlstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/sqlstore"
)

func ExampleOpen() {
	ctx := context.Background()
	// "postgres://user@host/db" works the same way.
	s, err := sqlstore.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	u, err := s.CreateUser(ctx, store.User{ID: "u1", Email: " Alice@Example.com", PasswordHash: "$argon2id$...", Roles: []string{"user", "admin"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Email, u.Roles)
	// Output: alice@example.com [admin user]
}
