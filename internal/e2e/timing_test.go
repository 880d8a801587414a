// The race detector slows bcrypt about tenfold, and this test runs some
// 270 bcrypt computations (more on a retry): minutes under -race. The
// invariant it measures, the same bcrypt count with or without an account,
// is pinned under -race too by internal/password's
// TestCompareAndDummyRunTheSameBcrypts; run this one without -race:
//
//	go test -count=1 -run TestLoginTimingDoesNotRevealAccounts ./internal/e2e

//go:build !race

package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Login takes the same time whether or not the email has an account, for
// every kind of password: a wrong one, one over bcrypt's 72 bytes, one
// that NFKC changes (imported hashes get a second compare with the raw
// form), and one that is both. A malformed email costs the same too. The
// cases are interleaved, so that whatever else loads the machine weighs
// on all of them, and compared by their medians (of 15 each) through the
// real server at a real (if low) bcrypt cost with the limits off.
func TestLoginTimingDoesNotRevealAccounts(t *testing.T) {
	cfg := testConfig() // bcrypt cost 10, rate limits and backoff off
	backends[0].configure(t, &cfg)
	s := start(t, cfg, newClock())
	s.register("known@example.com", pw).want(t, http.StatusCreated)

	inputs := []struct{ name, password string }{
		{"wrong password", "wrong horse battery"},
		{"over 72 bytes", strings.Repeat("x", 80)},
		{"NFKC changes it", "ｗｒｏｎｇ ｈｏｒｓｅ ｂａｔｔｅｒｙ"},
		{"NFKC changes it, over 72 bytes", strings.Repeat("ｘ", 80)},
	}
	emails := []string{"known@example.com", "unknown@example.com", "not an email"}
	const rounds = 15
	login := func(email, password string) time.Duration {
		begin := time.Now()
		r := s.postJSON("/v1/login", map[string]string{"email": email, "password": password})
		d := time.Since(begin)
		r.wantError(t, http.StatusUnauthorized, "invalid_credentials")
		return d
	}
	for _, in := range inputs { // warm up: the dummy hash, connections
		login(emails[1], in.password)
	}
	// measure returns the median time per input and email, and the cases
	// more than 20% away from the known email's.
	measure := func() (medians [][]time.Duration, apart []string) {
		took := make([][][]time.Duration, len(inputs)) // [input][email][round]
		for i := range took {
			took[i] = make([][]time.Duration, len(emails))
		}
		for round := range rounds {
			for i, in := range inputs {
				for k := range emails {
					e := (k + round) % len(emails) // rotate who goes first
					took[i][e] = append(took[i][e], login(emails[e], in.password))
				}
			}
		}
		medians = make([][]time.Duration, len(inputs))
		for i, in := range inputs {
			for e := range emails {
				medians[i] = append(medians[i], median(took[i][e]))
			}
			known := medians[i][0]
			for e := 1; e < len(emails); e++ {
				if diff := (medians[i][e] - known).Abs(); diff > known/5 {
					apart = append(apart, fmt.Sprintf("%s: median login of %q %s vs %s for the known email", in.name, emails[e], medians[i][e], known))
				}
			}
		}
		return medians, apart
	}
	report := func(medians [][]time.Duration) {
		for i, in := range inputs {
			var line strings.Builder
			fmt.Fprintf(&line, "%-32s known %7.1f ms", in.name+":", ms(medians[i][0]))
			for e := 1; e < len(emails); e++ {
				fmt.Fprintf(&line, ", %s %7.1f ms", emails[e], ms(medians[i][e]))
			}
			t.Log(line.String())
		}
	}
	medians, apart := measure()
	report(medians)
	if len(apart) > 0 {
		// A burst of load from elsewhere on the machine can push one
		// median out; a real difference (a bcrypt more or less) shows in
		// every run. Measure once more and judge that.
		t.Logf("more than 20%% apart, measuring again: %s", strings.Join(apart, "; "))
		medians, apart = measure()
		report(medians)
	}
	for _, a := range apart {
		t.Errorf("%s: more than 20%% apart", a)
	}
}

// median returns the middle of ds.
func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
