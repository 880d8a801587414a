package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/userimport"
	"github.com/authd/authd/pkg/store"
)

const usersUsage = "users create EMAIL | users disable|enable EMAIL | users import FILE [--format jsonl|csv] | users export [--format jsonl] | users grant|revoke EMAIL ROLE"

// users runs the account administration commands. They go through the
// same service as the API (policy, session revocation, audit events).
func (c *command) users(ctx context.Context, args []string) error {
	if len(args) >= 1 && args[0] == "export" {
		return c.exportUsers(ctx, args[1:])
	}
	if len(args) < 2 {
		return fmt.Errorf("%w: %s", errUsage, usersUsage)
	}
	sub, rest := args[0], args[1:]
	switch {
	case sub == "create" && len(rest) == 1,
		(sub == "disable" || sub == "enable") && len(rest) == 1,
		(sub == "grant" || sub == "revoke") && len(rest) == 2,
		sub == "import" && (len(rest) == 1 || len(rest) == 3 && rest[1] == "--format"):
	default:
		return fmt.Errorf("%w: %s", errUsage, usersUsage)
	}
	if sub == "grant" {
		// Refused before anything is opened; the service and the store
		// check again.
		if err := store.ValidateRole(rest[1]); err != nil {
			return fmt.Errorf("%w: role %.64q: a role is 1 to %d of a-z 0-9 _ . : -, starting with a letter or a digit",
				errUsage, rest[1], store.MaxRoleLength)
		}
	}
	// create mails a verification link; disable revokes every session of
	// the user, live access tokens included.
	a, cfg, err := c.openAdmin(ctx, app.Needs{Mail: sub == "create", Revocation: sub == "disable"})
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Service()

	switch sub {
	case "create":
		return c.createUser(ctx, svc, rest[0])
	case "import":
		return c.importUsers(ctx, svc, rest, cfg.BcryptCost)
	}
	u, err := svc.UserByEmail(ctx, rest[0])
	if errors.Is(err, auth.ErrNotFound) {
		return fmt.Errorf("no user with email %q", rest[0])
	}
	if err != nil {
		return err
	}
	actor := cliActor("users " + sub)
	switch sub {
	case "disable":
		err = svc.DisableUser(ctx, actor, u.ID)
	case "enable":
		err = svc.EnableUser(ctx, actor, u.ID)
	case "grant":
		err = svc.GrantRole(ctx, actor, u.ID, rest[1])
	case "revoke":
		err = svc.RevokeRole(ctx, actor, u.ID, rest[1])
	}
	if err != nil {
		return describe(err)
	}
	switch sub {
	case "disable":
		fmt.Fprintf(c.stdout, "disabled %s; every session of theirs is revoked\n", u.Email)
	case "enable":
		fmt.Fprintf(c.stdout, "enabled %s\n", u.Email)
	default:
		done := map[string]string{"grant": "granted", "revoke": "revoked"}[sub]
		fmt.Fprintf(c.stdout, "%s role %q for %s; access tokens carry the change from the next login or refresh\n", done, rest[1], u.Email)
	}
	return nil
}

// createUser reads the password from standard input (first line) so it
// never appears in the process list or shell history.
func (c *command) createUser(ctx context.Context, svc *auth.Service, email string) error {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return fmt.Errorf("%w: pass the password on standard input, e.g. authd users create %s < password.txt", errUsage, email)
	}
	u, err := svc.Register(ctx, email, pw, auth.Device{})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(c.stdout, "created %s (id %s)\n", u.Email, u.ID)
	return nil
}

func (c *command) importUsers(ctx context.Context, svc *auth.Service, rest []string, cost int) error {
	path := rest[0]
	format := userimport.Format(strings.TrimPrefix(filepath.Ext(path), "."))
	if len(rest) == 3 {
		format = userimport.Format(rest[2])
	}
	if format == "json" || format == "ndjson" {
		format = userimport.JSONLines
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := userimport.Import(ctx, svc, f, format, cliActor("users import").Device)
	fmt.Fprintf(c.stdout, "imported %d users, skipped %d\n", rep.Imported, len(rep.Skipped))
	if rep.LowCost > 0 {
		fmt.Fprintf(c.stdout, "  %d imported hashes have a bcrypt cost below %d; each is re-hashed at the user's next login\n",
			rep.LowCost, cost)
	}
	for _, s := range rep.Skipped {
		// %q: the file's email may hold terminal escapes.
		fmt.Fprintf(c.stdout, "  line %d %.254q: %s\n", s.Line, s.Email, s.Reason)
	}
	return err
}

// cliActor names who acts on the audit trail: no user id (the operator
// at the machine is no account, and is never refused as an admin acting
// on themselves would be) and, as the user agent, the CLI command and the
// operating-system user running it when known.
func cliActor(command string) auth.Actor {
	ua := "authd-cli " + command
	if u, err := user.Current(); err == nil {
		ua += " (os user " + u.Username + ")"
	}
	return auth.Actor{Device: auth.Device{UserAgent: ua}}
}

// describe turns a service error into its client-safe description.
func describe(err error) error {
	var e *auth.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %s", e.Kind, e.Description)
	}
	return err
}

// exportUsers writes every user to standard output in the format users
// import reads, so that users move between backends (or deployments) with
// their passwords: authd users export > users.jsonl, then, configured for
// the other database, authd users import users.jsonl.
func (c *command) exportUsers(ctx context.Context, args []string) error {
	switch {
	case len(args) == 0:
	case len(args) == 2 && args[0] == "--format" && (args[1] == "jsonl" || args[1] == "json" || args[1] == "ndjson"):
	default:
		return fmt.Errorf("%w: %s", errUsage, usersUsage)
	}
	_, _, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := userimport.Export(ctx, s, c.stdout, userimport.JSONLines)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "exported %d users; the file holds their password hashes: keep it like the database\n", n)
	return nil
}
