package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/authd/authd/config"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/pkg/denylist"
)

// Needs names what an admin command uses beyond the store, the audit
// writer and the service, which every OpenAdmin opens. docs/ARCHITECTURE.md
// has the table of what each command of cmd/authd asks for.
type Needs struct {
	// Revocation: the command revokes sessions or tokens (users disable,
	// clients disable and delete), so it opens the denylist (Redis when
	// configured) and the recorder that writes each revocation to the
	// store first. Without it, a revocation fails.
	Revocation bool
	// Mail: the command sends mail (users create mails a verification
	// link), so it loads the templates and starts the mail queue, which
	// Close drains. Without it, the service sends none.
	Mail bool
}

// Admin is the service as an admin command uses it: on the store, the
// audit writer and only the parts its Needs name. It has no HTTP layer,
// TLS, signing keys, mirror, sync loop, limits, metrics, retention purge
// or niced threads: it mints no token and serves nothing.
type Admin struct {
	service     *auth.Service
	revocations *Revocations
	closers     closers
}

// OpenAdmin opens the store (migrated), the audit writer and what needs
// names, and builds the service on them. Close releases them; the mail
// queue drains and the audit events are written first.
func OpenAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, needs Needs, opts ...Option) (_ *Admin, err error) {
	if err := checkRoles(cfg); err != nil {
		return nil, err
	}
	set := newSettings(opts)
	a := &Admin{}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	st, err := OpenMigratedStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.closers.add(st.Close)
	var dl denylist.Denylist = noRevocations{}
	if needs.Revocation {
		if a.revocations, err = openRevocations(ctx, cfg, log, st, set.clock, false); err != nil {
			return nil, err
		}
		a.closers.add(a.revocations.Close)
		dl = a.revocations.Denylist()
	}
	w, closeAudit := openAudit(cfg, st, log, set.clock)
	a.closers.add(closeAudit)
	svc := serviceConfig(cfg, log, set.clock)
	svc.Events = w
	if needs.Mail {
		m, err := openMail(ctx, cfg, log, set.mailOpts)
		if err != nil {
			return nil, err
		}
		a.closers.add(m.close)
		svc.Outbox, svc.Templates = m.queue, m.templates
	}
	// A command hashes a password or two, one at a time: no gate to queue
	// on, and no niced threads to start.
	hasher := password.NewHasher(cfg.BcryptCost)
	if a.service, err = auth.New(svc, st, dl, noSigningKeys{}, noSigningKeys{}, hasher); err != nil {
		return nil, err
	}
	return a, nil
}

// Service returns the service.
func (a *Admin) Service() *auth.Service { return a.service }

// Close drains the mail queue and writes the audit events, then closes
// the denylist and the store.
func (a *Admin) Close() error { return a.closers.close() }

// errNoRevocations is what a revocation fails with in a command that did
// not open them (Needs.Revocation).
var errNoRevocations = fmt.Errorf("%w: this command opened no revocations", denylist.ErrUnavailable)

// noRevocations is the denylist of an Admin opened without
// Needs.Revocation: every call fails, so that a command that came to
// revoke would report it rather than lose the revocation.
type noRevocations struct{}

var _ denylist.Denylist = noRevocations{}

func (noRevocations) Check(context.Context, denylist.Token) error { return errNoRevocations }
func (noRevocations) RevokeToken(context.Context, string, string, time.Time) error {
	return errNoRevocations
}
func (noRevocations) RevokeSessions(context.Context, string, []string, time.Time) error {
	return errNoRevocations
}
func (noRevocations) RevokeUserBefore(context.Context, string, time.Time, time.Time) error {
	return errNoRevocations
}
func (noRevocations) Ping(context.Context) error { return errNoRevocations }
