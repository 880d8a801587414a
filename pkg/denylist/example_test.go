package denylist_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/pkg/denylist"
)

func ExampleMemory() {
	ctx := context.Background()
	dl := denylist.NewMemory()
	now := time.Now()
	exp := now.Add(15 * time.Minute) // the latest exp of the session's access tokens

	// Logging a session out refuses every access token it was issued,
	// until the last of them would have expired anyway.
	if err := dl.RevokeSessions(ctx, "alice", []string{"session-1"}, exp); err != nil {
		fmt.Println(err)
		return
	}

	// A verifier checks each token after its signature and claims.
	loggedOut := denylist.Token{JTI: "token-1", SID: "session-1", Subject: "alice", IssuedAt: now}
	other := denylist.Token{JTI: "token-2", SID: "session-2", Subject: "alice", IssuedAt: now}
	err := dl.Check(ctx, loggedOut)
	fmt.Println(errors.Is(err, denylist.ErrRevoked), err)
	fmt.Println(dl.Check(ctx, other))

	// "Log out everywhere": refuse every token of alice issued before now.
	// A token's iat is in whole seconds, hence the cutoff rounded up.
	cutoff := now.Truncate(time.Second).Add(time.Second)
	if err := dl.RevokeUserBefore(ctx, "alice", cutoff, exp); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dl.Check(ctx, other))
	// Output:
	// true denylist: token revoked: session revoked
	// <nil>
	// denylist: token revoked: issued before the user's cutoff
}
