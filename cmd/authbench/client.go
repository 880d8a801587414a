package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/authd/authd/internal/loadgen"
)

// needsServiceClient reports whether a phase runs the client_credentials
// scenario.
func needsServiceClient(phases []loadgen.Phase) bool {
	for _, p := range phases {
		if slices.ContainsFunc(p.Mix, func(w loadgen.Weight) bool { return w.Scenario == loadgen.ClientCredentials }) {
			return true
		}
	}
	return false
}

// serviceClient is the client the client_credentials scenario uses: the
// one given by -client-id (secret from -client-secret or
// AUTHBENCH_CLIENT_SECRET), or one created for the run with
// `<-authd-bin> clients create` in the environment of -authd-env (which
// must name the store the target authd uses, e.g. AUTHD_DATABASE_URL and
// AUTHD_MASTER_KEY for Postgres).
func serviceClient(ctx context.Context, o options, name string) (loadgen.ServiceClient, error) {
	if o.clientID != "" {
		secret := o.clientSecret
		if secret == "" {
			secret = os.Getenv("AUTHBENCH_CLIENT_SECRET")
		}
		if secret == "" {
			return loadgen.ServiceClient{}, fmt.Errorf("-client-id %s: give its secret with -client-secret or AUTHBENCH_CLIENT_SECRET", o.clientID)
		}
		return loadgen.ServiceClient{ID: o.clientID, Secret: secret}, nil
	}
	if o.authdBin == "" {
		return loadgen.ServiceClient{}, fmt.Errorf("the %s scenario needs a service client: -client-id and -client-secret, or -authd-bin (with -authd-env naming the target's store) to create one", loadgen.ClientCredentials)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.authdBin, "clients", "create", name)
	cmd.Env = append(os.Environ(), o.authdEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return loadgen.ServiceClient{}, fmt.Errorf("%s clients create: %w: %.500s", o.authdBin, err, stderr.Bytes())
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" || c.Secret == "" {
		return loadgen.ServiceClient{}, fmt.Errorf("%s clients create printed no client: %v", o.authdBin, err)
	}
	return loadgen.ServiceClient{ID: c.ID, Secret: c.Secret}, nil
}

// grantRatio compares client_credentials grants with /v1/verify, each
// measured alone in the same run: both are one HTTP exchange and one ES256
// operation (a signature, a verification), plus a store read for the grant.
type grantRatio struct {
	GrantsPerSecond float64 `json:"grants_per_second"`
	VerifyPerSecond float64 `json:"verify_per_second"`
	Ratio           float64 `json:"ratio"`
	Target          float64 `json:"target"`
}

// grantRatioOf is the ratio of the client_credentials and verify phases,
// or nil unless both ran alone.
func grantRatioOf(phases []*loadgen.Result) *grantRatio {
	rate := func(s loadgen.Scenario) float64 {
		for _, p := range phases {
			if p.Phase == string(s) {
				if e, ok := p.Endpoint(s); ok {
					return e.Rate
				}
			}
		}
		return 0
	}
	g, v := rate(loadgen.ClientCredentials), rate(loadgen.Verify)
	if g == 0 || v == 0 {
		return nil
	}
	return &grantRatio{GrantsPerSecond: g, VerifyPerSecond: v, Ratio: g / v, Target: 0.5}
}

func writeGrantRatio(w io.Writer, r *grantRatio) {
	if r == nil {
		return
	}
	verdict := "meets"
	if r.Ratio < r.Target {
		verdict = "below"
	}
	fmt.Fprintf(w, "\nclient_credentials %.0f/s vs verify %.0f/s: ratio %.2f (%s the target %.1f)\n",
		r.GrantsPerSecond, r.VerifyPerSecond, r.Ratio, verdict, r.Target)
}
