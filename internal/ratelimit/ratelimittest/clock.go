package ratelimittest

import (
	"sync"
	"time"
)

// Clock is a fake clock for in-process backends, safe for concurrent use.
// It starts at an arbitrary fixed time and moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock.
func NewClock() *Clock {
	return &Clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time; pass it to ratelimit.WithClock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
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
