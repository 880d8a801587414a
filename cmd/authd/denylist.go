package main

import (
	"context"
	"fmt"

	"github.com/authd/authd/internal/app"
)

const denylistUsage = "denylist rebuild"

// denylist is `authd denylist rebuild`: write every live revocation of the
// store to the denylist again and set its generation marker, whatever the
// marker says, e.g. after restoring Redis from an old backup. Serving
// replicas do it by themselves when they find the marker missing or
// behind; this is the on-demand form.
func (c *command) denylist(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] != "rebuild" {
		return fmt.Errorf("%w: %s", errUsage, denylistUsage)
	}
	cfg, log, s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := app.OpenRevocations(ctx, cfg, log, s)
	if err != nil {
		return err
	}
	defer r.Close()
	stats, err := r.Rebuild(ctx)
	if err != nil {
		return fmt.Errorf("denylist rebuild: %w", err)
	}
	fmt.Fprintf(c.stdout, "rebuilt the denylist: %d live revocations written in %v (generation %d)\n",
		stats.Entries, stats.Took.Round(1e6), stats.Generation)
	return nil
}
