package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseClientArgs(t *testing.T) {
	tests := []struct {
		name       string
		sub        string
		args       []string
		positional []string
		scopes     []string
		audiences  []string
		grace      time.Duration
		bad        bool
	}{
		{name: "flags after the name", sub: "create", args: []string{"billing", "--scope", "a", "--scope", "b", "--audience", "x"},
			positional: []string{"billing"}, scopes: []string{"a", "b"}, audiences: []string{"x"}},
		{name: "flags before the name", sub: "create", args: []string{"--scope=a", "billing"}, positional: []string{"billing"}, scopes: []string{"a"}},
		{name: "grace", sub: "rotate-secret", args: []string{"svc_x", "--grace", "24h"}, positional: []string{"svc_x"}, grace: 24 * time.Hour},
		{name: "grace is not a create flag", sub: "create", args: []string{"x", "--grace", "1h"}, bad: true},
		{name: "scope is not a rotate flag", sub: "rotate-secret", args: []string{"x", "--scope", "a"}, bad: true},
		{name: "bad duration", sub: "rotate-secret", args: []string{"x", "--grace", "soon"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := parseClientArgs(tt.sub, tt.args, io.Discard)
			if tt.bad {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want errUsage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ca.positional, tt.positional) || !slices.Equal(ca.scopes, tt.scopes) ||
				!slices.Equal(ca.audiences, tt.audiences) || ca.grace != tt.grace {
				t.Fatalf("got %+v", ca)
			}
		})
	}
}

// clients create prints one JSON object with exactly four members on
// stdout; list prints no secret.
func TestClientsCommand(t *testing.T) {
	t.Setenv("AUTHD_DATA_DIR", t.TempDir())
	t.Setenv("AUTHD_DATABASE_URL", "")
	t.Setenv("AUTHD_REDIS_URL", "")
	t.Setenv("AUTHD_MASTER_KEY", "")
	t.Setenv("AUTHD_LOG_LEVEL", "error")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"clients", "create", "reports", "--scope", "r"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var created map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatalf("not one JSON object: %q", out.String())
	}
	keys := make([]string, 0, len(created))
	for k := range created {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"audiences", "client_id", "client_secret", "scopes"}) || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("create printed %q", out.String())
	}
	var secret string
	_ = json.Unmarshal(created["client_secret"], &secret)
	out.Reset()
	if code := run(ctx, []string{"clients", "list"}, &out, &errOut); code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), secret) || !strings.Contains(out.String(), `"name":"reports"`) {
		t.Fatalf("list printed %q", out.String())
	}
	if code := run(ctx, []string{"clients", "disable", "svc_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, io.Discard, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "no client") {
		t.Fatalf("disable of an unknown client: exit %d: %s", code, errOut.String())
	}
	if code := run(ctx, []string{"clients", "frobnicate", "x"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown subcommand: exit %d", code)
	}
}
