package auth_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

// countingOutbox accepts every job and drops it: the request path alone.
type countingOutbox struct{ n atomic.Int64 }

func (o *countingOutbox) Enqueue(mail.Job) bool { o.n.Add(1); return true }

func withOutbox(o auth.Outbox) func(*auth.Config) {
	return func(c *auth.Config) { c.Outbox = o }
}

// composingOutbox composes every job at once, as a worker would, and
// records the recipients of the messages and the skips.
type composingOutbox struct {
	mu      sync.Mutex
	to      []string
	skipped int
}

func (o *composingOutbox) Enqueue(j mail.Job) bool {
	m, err := j.Compose(context.Background())
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case errors.Is(err, mail.ErrSkip):
		o.skipped++
	case err != nil:
		panic(err)
	default:
		o.to = append(o.to, m.To)
	}
	return true
}

func TestForgotPasswordMailsKnownUsersOnly(t *testing.T) {
	out := &composingOutbox{}
	f := newFixture(t, denylist.NewMemory(), 10, withOutbox(out))
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "known@example.com", "correct horse battery", auth.Device{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateUser(ctx, store.User{ID: "d", Email: "disabled@example.com", PasswordHash: "x", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	out.to = nil // the verification mails
	for _, e := range []string{"known@example.com", "KNOWN@example.com ", "unknown@example.com", "disabled@example.com"} {
		if err := f.svc.ForgotPassword(ctx, e); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
	if err := f.svc.ForgotPassword(ctx, "not an email"); !errors.Is(err, auth.ErrInvalidRequest) {
		t.Errorf("malformed email: %v", err)
	}
	if want := []string{"known@example.com", "known@example.com"}; !slices.Equal(out.to, want) || out.skipped != 2 {
		t.Errorf("mailed %v, skipped %d; want %v and 2 skipped", out.to, out.skipped, want)
	}
}

// BenchmarkForgotPassword measures the request path of forgot-password for
// a known and an unknown email. Both must cost the same: the request only
// normalises the email and queues a job; the lookup, the token and the
// mail are the worker's.
func BenchmarkForgotPassword(b *testing.B) {
	for _, e := range []struct{ name, email string }{{"known", "known@example.com"}, {"unknown", "unknown@example.com"}} {
		b.Run(e.name, func(b *testing.B) {
			f := newFixture(b, denylist.NewMemory(), 10, withOutbox(&countingOutbox{}))
			ctx := context.Background()
			if _, err := f.svc.Register(ctx, "known@example.com", "correct horse battery", auth.Device{}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := f.svc.ForgotPassword(ctx, e.email); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
