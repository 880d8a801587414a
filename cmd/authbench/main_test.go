package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadInvocations(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"remote target", []string{"-target", "http://10.1.2.3:8080"}, "not a loopback address"},
		{"unknown scenario", []string{"-scenario", "fly"}, "scenario"},
		{"bad mix", []string{"-mix", "verify=-1"}, "weight"},
		{"no duration", []string{"-duration", "0"}, "duration"},
		{"no timeout", []string{"-timeout", "0"}, "-timeout"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"footprint without binary", []string{"-footprint"}, "-footprint needs -authd-bin"},
		{"footprint with limits", []string{"-footprint", "-authd-bin", "authd", "-limits"}, "separate runs"},
		{"footprint without connections", []string{"-footprint", "-authd-bin", "authd", "-footprint-conns", "0"}, "-footprint-conns"},
		{"footprint too long", []string{"-footprint", "-authd-bin", "authd", "-footprint-duration", "1h"}, "-footprint-duration"},
		{"authd setting without value", []string{"-footprint", "-authd-bin", "authd", "-authd-env", "AUTHD_LOG_LEVEL"}, "KEY=VALUE"},
		{"authd binary without footprint", []string{"-authd-bin", "authd"}, "are for -footprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestLimitsDefaultsToTargetScenarios(t *testing.T) {
	o, err := parseFlags([]string{"-limits"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.scenario != limitScenarios {
		t.Fatalf("scenario %q, want %q", o.scenario, limitScenarios)
	}
	o, err = parseFlags([]string{"-limits", "-scenario", "verify"}, &bytes.Buffer{})
	if err != nil || o.scenario != "verify" {
		t.Fatalf("explicit -scenario: %q, %v", o.scenario, err)
	}
}
