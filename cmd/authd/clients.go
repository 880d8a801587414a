package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/auth"
)

const clientsUsage = "clients create NAME [--scope S]... [--audience A]... | clients list | clients rotate-secret ID [--grace 24h] | clients disable|enable|delete ID"

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// clientArgs are a clients subcommand's positional arguments and flags.
type clientArgs struct {
	positional []string
	scopes     repeated
	audiences  repeated
	grace      time.Duration
}

// parseClientArgs reads flags wherever they stand among the positional
// arguments (the flag package stops at the first positional one).
func parseClientArgs(sub string, args []string, stderr io.Writer) (clientArgs, error) {
	var ca clientArgs
	fs := flag.NewFlagSet("authd clients "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch sub {
	case "create":
		fs.Var(&ca.scopes, "scope", "a scope the client may request (repeatable)")
		fs.Var(&ca.audiences, "audience", "an audience the client may ask tokens for (repeatable; the first is the default)")
	case "rotate-secret":
		fs.DurationVar(&ca.grace, "grace", 0, "how long the replaced secret keeps working (at most 720h)")
	}
	for {
		if err := fs.Parse(args); err != nil {
			return ca, fmt.Errorf("%w: %s", errUsage, clientsUsage)
		}
		if fs.NArg() == 0 {
			return ca, nil
		}
		ca.positional = append(ca.positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// clientJSON is how the CLI prints a client: never a secret but right
// after create or rotate-secret.
type clientJSON struct {
	ClientID     string     `json:"client_id"`
	ClientSecret string     `json:"client_secret,omitempty"`
	Name         string     `json:"name,omitempty"`
	Scopes       []string   `json:"scopes"`
	Audiences    []string   `json:"audiences"`
	Disabled     bool       `json:"disabled"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
	// PrevSecretExpiresAt: until when the replaced secret still works.
	PrevSecretExpiresAt *time.Time `json:"prev_secret_expires_at,omitempty"`
}

func toClientJSON(ci auth.ClientInfo, secret string) clientJSON {
	out := clientJSON{ClientID: ci.ID, ClientSecret: secret, Name: ci.Name, Scopes: ci.Scopes, Audiences: ci.Audiences,
		Disabled: ci.Disabled, CreatedAt: ci.CreatedAt}
	if !ci.LastUsedAt.IsZero() {
		t := ci.LastUsedAt
		out.LastUsedAt = &t
	}
	if !ci.PrevSecretExpiresAt.IsZero() {
		t := ci.PrevSecretExpiresAt
		out.PrevSecretExpiresAt = &t
	}
	return out
}

// clients runs the service-client commands through the same service as
// the admin API (validation, token revocation, audit events). create and
// rotate-secret print one JSON object on standard output and nothing
// else, so that a script can read the secret; list prints one JSON object
// per client per line, without secrets.
func (c *command) clients(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, clientsUsage)
	}
	sub := args[0]
	ca, err := parseClientArgs(sub, args[1:], c.stderr)
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(ca.positional) == 0,
		sub == "create" && len(ca.positional) == 1,
		(sub == "rotate-secret" || sub == "disable" || sub == "enable" || sub == "delete") && len(ca.positional) == 1:
	default:
		return fmt.Errorf("%w: %s", errUsage, clientsUsage)
	}
	// disable and delete refuse the client's live tokens on the denylist.
	a, _, err := c.openAdmin(ctx, app.Needs{Revocation: sub == "disable" || sub == "delete"})
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Service()
	actor := auth.Actor{Device: cliDevice("clients " + sub)}
	enc := json.NewEncoder(c.stdout)
	switch sub {
	case "create":
		cs, err := svc.CreateClient(ctx, actor, auth.NewClient{Name: ca.positional[0], Scopes: ca.scopes, Audiences: ca.audiences})
		if err != nil {
			return describe(err)
		}
		// These four members and nothing else: a script reads the secret.
		return enc.Encode(struct {
			ClientID     string   `json:"client_id"`
			ClientSecret string   `json:"client_secret"`
			Scopes       []string `json:"scopes"`
			Audiences    []string `json:"audiences"`
		}{cs.Client.ID, cs.Secret, cs.Client.Scopes, cs.Client.Audiences})
	case "list":
		cs, err := svc.ListClients(ctx)
		if err != nil {
			return describe(err)
		}
		for _, ci := range cs {
			if err := enc.Encode(toClientJSON(ci, "")); err != nil {
				return err
			}
		}
		return nil
	case "rotate-secret":
		cs, err := svc.RotateClientSecret(ctx, actor, ca.positional[0], ca.grace)
		if err != nil {
			return describe(err)
		}
		return enc.Encode(toClientJSON(cs.Client, cs.Secret))
	}
	id := ca.positional[0]
	switch sub {
	case "disable":
		err = svc.DisableClient(ctx, actor, id)
	case "enable":
		err = svc.EnableClient(ctx, actor, id)
	case "delete":
		err = svc.DeleteClient(ctx, actor, id)
	}
	if errors.Is(err, auth.ErrNotFound) {
		return fmt.Errorf("no client with id %.64q", id)
	}
	if err != nil {
		return describe(err)
	}
	done := map[string]string{"disable": "disabled %s; its tokens are refused from now on\n",
		"enable": "enabled %s\n", "delete": "deleted %s; its tokens are refused from now on\n"}[sub]
	fmt.Fprintf(c.stdout, done, id)
	return nil
}

// cliDevice names the CLI command, and the operating-system user running
// it when known, as the audit trail's user agent.
func cliDevice(cmd string) auth.Device {
	actor := "authd-cli " + cmd
	if u, err := user.Current(); err == nil {
		actor += " (os user " + u.Username + ")"
	}
	return auth.Device{UserAgent: actor}
}
