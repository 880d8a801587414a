package loadgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scenario is one kind of work a worker repeats; each is named after the
// endpoint it measures.
type Scenario string

// The scenarios. Login, Register and Logout create sessions or users of
// their own; Refresh, Me and Verify use the worker's session, logged in
// once before the phase (Refresh follows the chain: each call presents the
// refresh token the previous call returned).
const (
	// Register is POST /v1/register of a new user (201).
	Register Scenario = "register"
	// Login is POST /v1/login of a prepared user (200).
	Login Scenario = "login"
	// Refresh is POST /v1/token, refresh_token grant (200).
	Refresh Scenario = "refresh"
	// Me is GET /v1/me with the worker's access token (200).
	Me Scenario = "me"
	// Verify is GET /v1/verify with the worker's access token (200).
	Verify Scenario = "verify"
	// Logout is a login (recorded under login) then POST /v1/logout of
	// that new session (204): every logout needs a live session of its own.
	Logout Scenario = "logout"
	// ClientCredentials is POST /v1/token, client_credentials grant of
	// the run's service client (Config.ServiceClient) with
	// client_secret_post (200): one store read and one ES256 signature.
	ClientCredentials Scenario = "client_credentials"
	// LoginMFA is POST /v1/login/mfa, the second step of a login, with a
	// recovery code (200): no bcrypt, the token and code reads, two
	// single-use writes, a session and an ES256 signature. Each request
	// spends a prepared mfa_token and recovery code (see Config.MFATokens),
	// so the phase ends early when they run out.
	LoginMFA Scenario = "login_mfa"
)

// Scenarios lists every scenario, in report order.
var Scenarios = []Scenario{Register, Login, Refresh, Me, Verify, Logout, ClientCredentials, LoginMFA}

// index returns the scenario's position in Scenarios, or -1.
func (s Scenario) index() int { return slices.Index(Scenarios, s) }

// requests is how many HTTP requests one run of the scenario makes.
func (s Scenario) requests() int64 {
	if s == Logout {
		return 2
	}
	return 1
}

// needsSession reports whether the scenario uses the worker's own session.
func (s Scenario) needsSession() bool { return s == Refresh || s == Me || s == Verify }

// Weight is a scenario's share of a mixed phase.
type Weight struct {
	Scenario Scenario `json:"scenario"`
	Weight   int      `json:"weight"`
}

// Phase is one measured run: its workers pick each next scenario from Mix
// in proportion to the weights.
type Phase struct {
	Name string
	Mix  []Weight
}

// DefaultMix is the mixed phase unless told otherwise: mostly token checks
// and refreshes, as traffic is, with a few of the bcrypt-bound calls (each
// of which costs as much CPU as hundreds of verifications).
const DefaultMix = "verify=60,me=15,refresh=20,login=2,logout=2,register=1"

// ParseMix parses "scenario=weight,..." (weights are positive integers).
func ParseMix(s string) ([]Weight, error) {
	var mix []Weight
	seen := map[Scenario]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		sc := Scenario(strings.TrimSpace(name))
		if !ok || sc.index() < 0 {
			return nil, fmt.Errorf("mix %q: %q is not scenario=weight with a scenario of %v", s, part, Scenarios)
		}
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 || n > 1_000_000 {
			return nil, fmt.Errorf("mix %q: weight of %s must be a positive integer", s, sc)
		}
		if seen[sc] {
			return nil, fmt.Errorf("mix %q: %s given twice", s, sc)
		}
		seen[sc] = true
		mix = append(mix, Weight{Scenario: sc, Weight: n})
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix %q: no scenario", s)
	}
	return mix, nil
}

// ParsePhases turns a -scenario value into phases run one after another:
// each name of a comma list is a phase of that scenario alone, and "mixed"
// is one phase of the weighted mix.
func ParsePhases(spec, mix string) ([]Phase, error) {
	var phases []Phase
	for name := range strings.SplitSeq(spec, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case name == "mixed":
			m, err := ParseMix(mix)
			if err != nil {
				return nil, err
			}
			phases = append(phases, Phase{Name: "mixed", Mix: m})
		case Scenario(name).index() >= 0:
			phases = append(phases, Phase{Name: name, Mix: []Weight{{Scenario(name), 1}}})
		default:
			return nil, fmt.Errorf("scenario %q: want one of %v or mixed", name, Scenarios)
		}
	}
	if len(phases) == 0 {
		return nil, fmt.Errorf("scenario %q: none given", spec)
	}
	return phases, nil
}
