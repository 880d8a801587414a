// Package loadgen drives a running authd over HTTP and measures it: the
// library behind cmd/authbench.
//
// A Runner registers its own users (under a random run prefix), then runs
// phases of scenarios (register, login, refresh chains, /v1/me, /v1/verify,
// logout) from a fixed number of workers, each phase bounded in time and in
// request count, and reports per endpoint the rate of successful requests,
// latency percentiles from a log-linear Histogram, and errors by status.
//
// It only talks to loopback addresses unless told otherwise: ValidateTarget
// checks the base URL, and the client from NewClient refuses at dial time
// any address that is not loopback, so neither a DNS answer nor an
// HTTP_PROXY variable can send load elsewhere.
//
// It is not a general HTTP load tool (it knows authd's API) and not a test
// of correctness (the end-to-end tests are); the machine limits the results
// are compared with live in the limits subpackage, and the measurement of
// authd's startup time and memory, on an authd it starts itself, in the
// footprint subpackage.
package loadgen
