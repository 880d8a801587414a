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
// on all of them, and compared by their medians through the real server
// at a real (if low) bcrypt cost with the limits off.
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
	took := make([][][]time.Duration, len(inputs)) // [input][email][round]
	for i := range took {
		took[i] = make([][]time.Duration, len(emails))
	}
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
	for round := range rounds {
		for i, in := range inputs {
			for k := range emails {
				e := (k + round) % len(emails) // rotate who goes first
				took[i][e] = append(took[i][e], login(emails[e], in.password))
			}
		}
	}
	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	for i, in := range inputs {
		known := median(took[i][0])
		var line strings.Builder
		fmt.Fprintf(&line, "%-32s known %7.1f ms", in.name+":", ms(known))
		for e := 1; e < len(emails); e++ {
			other := median(took[i][e])
			fmt.Fprintf(&line, ", %s %7.1f ms", emails[e], ms(other))
			if diff := (other - known).Abs(); diff > known/5 {
				t.Errorf("%s: median login of %q %s vs %s for the known email: more than 20%% apart", in.name, emails[e], other, known)
			}
		}
		t.Log(line.String())
	}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
