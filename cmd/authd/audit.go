package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/authd/authd/pkg/store"
)

const auditUsage = "audit tail [-n N] [--user ID]"

// audit is `authd audit tail [-n N] [--user ID]`: the newest N events of
// the audit trail (of one user), printed oldest first so the newest is
// next to the prompt, as in tail(1).
func (c *command) audit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "tail" {
		return fmt.Errorf("%w: %s", errUsage, auditUsage)
	}
	fs := flag.NewFlagSet("audit tail", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	n := fs.Int("n", 20, "how many events, 1 to 1000")
	user := fs.String("user", "", "only the events of this user id")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 || *n < 1 || *n > 1000 {
		return fmt.Errorf("%w: %s (N from 1 to 1000)", errUsage, auditUsage)
	}
	_, _, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	events, err := s.AuditEvents(ctx, store.AuditQuery{Limit: *n, UserID: *user})
	if err != nil {
		return err
	}
	slices.Reverse(events)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTYPE\tOUTCOME\tDETAIL\tUSER\tACTOR\tSESSION\tIP\tUSER AGENT")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(e.At), cell(e.Type, 32), cell(e.Outcome, 16), cell(e.Detail, 32),
			cell(e.UserID, 40), cell(e.ActorID, 40), cell(e.SessionID, 24), cell(e.IP, 40), cell(e.UserAgent, 60))
	}
	return tw.Flush()
}

// cell makes a stored value safe for one table cell: "-" when empty, cut
// to max runes, and every control or unprintable character (a user agent
// is the client's choice: tabs, newlines, terminal escapes) shown as '?'.
func cell(s string, max int) string {
	if s == "" {
		return "-"
	}
	r := []rune(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s))
	if len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return string(r)
}
