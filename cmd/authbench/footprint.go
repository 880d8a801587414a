package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/authd/authd/internal/loadgen"
	"github.com/authd/authd/internal/loadgen/footprint"
)

// footprintErrors checks the -footprint flags.
func (o options) footprintErrors() []error {
	if !o.footprint {
		// The client_credentials scenario creates its client with them.
		usesClient := strings.Contains(o.scenario, string(loadgen.ClientCredentials)) ||
			strings.Contains(o.scenario, "mixed") && strings.Contains(o.mix, string(loadgen.ClientCredentials))
		if (o.authdBin != "" || len(o.authdEnv) > 0) && !usesClient {
			return []error{errors.New("-authd-bin and -authd-env are for -footprint and the client_credentials scenario")}
		}
		return nil
	}
	var errs []error
	if o.authdBin == "" {
		errs = append(errs, errors.New("-footprint needs -authd-bin, the authd binary to start"))
	}
	if o.limits {
		errs = append(errs, errors.New("-footprint and -limits are separate runs"))
	}
	if o.fpStarts < 1 || o.fpStarts > footprint.MaxStarts {
		errs = append(errs, fmt.Errorf("-footprint-starts %d: want 1 to %d", o.fpStarts, footprint.MaxStarts))
	}
	if o.fpConns < 1 || o.fpConns > footprint.MaxConns {
		errs = append(errs, fmt.Errorf("-footprint-conns %d: want 1 to %d", o.fpConns, footprint.MaxConns))
	}
	if o.fpIdle <= 0 || o.fpIdle > footprint.MaxDuration {
		errs = append(errs, fmt.Errorf("-footprint-idle %s: want more than 0 and at most %s", o.fpIdle, footprint.MaxDuration))
	}
	if o.fpDuration <= 0 || o.fpDuration > footprint.MaxDuration {
		errs = append(errs, fmt.Errorf("-footprint-duration %s: want more than 0 and at most %s", o.fpDuration, footprint.MaxDuration))
	}
	return errs
}

// runFootprint is -footprint: it starts -authd-bin itself and reports its
// startup time and memory against the targets of docs/benchmarks.md.
func runFootprint(ctx context.Context, o options, stdout, stderr io.Writer) int {
	var progress io.Writer
	if !o.quiet {
		progress = stderr
	}
	res, err := footprint.Measure(ctx, footprint.Config{
		Binary: o.authdBin, Env: o.authdEnv, Starts: o.fpStarts, Idle: o.fpIdle,
		Conns: o.fpConns, Duration: o.fpDuration, Timeout: o.timeout,
		LogFile: o.authdLog, HeapProfiles: o.fpHeap, Progress: progress,
	})
	if err != nil {
		fmt.Fprintf(stderr, "authbench: footprint: %v\n", err)
		return 1
	}
	rep := report{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Footprint: res}
	if o.jsonFile != "" {
		if err := writeJSONFile(o.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "authbench: %v\n", err)
			return 1
		}
	}
	if o.jsonOut {
		err = writeJSON(stdout, rep)
	} else {
		fmt.Fprintf(stdout, "authbench: footprint, %d CPUs, %s\n\n", rep.CPUs, rep.GoVersion)
		err = footprint.WriteText(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "authbench: %v\n", err)
		return 1
	}
	return 0
}
