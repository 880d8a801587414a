package ratelimittest

import (
	"time"

	"github.com/authd/authd/internal/testclock"
)

// Clock is the shared test clock, started at an arbitrary fixed time,
// with Env for the conformance suite.
type Clock struct{ *testclock.Clock }

// NewClock returns a Clock.
func NewClock() *Clock {
	return &Clock{testclock.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))}
}

// Env returns the Env of a backend that reads c: exact, advanced at once.
func (c *Clock) Env() Env { return Env{Advance: c.Advance} }

// RealTime is the Env of a backend on real time, such as Redis, whose
// server clock cannot be moved: Advance sleeps d plus realTimeMargin, and
// durations may be off by slack because time passes between the suite's
// calls.
func RealTime(slack time.Duration) Env {
	return Env{Advance: func(d time.Duration) { time.Sleep(d + realTimeMargin) }, Slack: slack}
}

// realTimeMargin is added to real-time sleeps: Redis keeps expiry times
// in truncated milliseconds, expires a key only once its time is strictly
// past, and reads a clock cached per event-loop turn, so a key set to live
// d can still be there d after the reply. Every real-time step of the
// suite leaves far more than this before the next boundary.
const realTimeMargin = 10 * time.Millisecond
