package userimport

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/authd/authd/pkg/store"
)

// Lister pages through users; every store.Store is one.
type Lister interface {
	ListUsers(ctx context.Context, q store.UserQuery) ([]store.User, error)
}

// exportPage is how many users Export reads per ListUsers call.
const exportPage = 500

// Export writes every user of l to w in format (JSONLines only), in
// (CreatedAt, ID) order: the email, the stored password hash, whether the
// email is verified and the account disabled, the roles and the creation
// time. Import reads it back, into the same or another backend, and the
// users log in with their passwords as before. It returns how many users
// it wrote.
//
// The output holds every password hash: treat it like the database.
func Export(ctx context.Context, l Lister, w io.Writer, format Format) (int, error) {
	if format != JSONLines {
		return 0, fmt.Errorf("userimport: export writes %q only, not %q", JSONLines, format)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	var after store.UserCursor
	for {
		page, err := l.ListUsers(ctx, store.UserQuery{After: after, Limit: exportPage})
		if err != nil {
			return n, fmt.Errorf("userimport: export: %w", err)
		}
		for _, u := range page {
			if err := enc.Encode(jsonRow{
				Email: u.Email, PasswordHash: u.PasswordHash, EmailVerified: u.EmailVerified,
				Disabled: u.Disabled, Roles: u.Roles, CreatedAt: u.CreatedAt.UTC(),
			}); err != nil {
				return n, fmt.Errorf("userimport: export: %w", err)
			}
			n++
		}
		if len(page) < exportPage {
			break
		}
		last := page[len(page)-1]
		after = store.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("userimport: export: %w", err)
	}
	return n, nil
}
