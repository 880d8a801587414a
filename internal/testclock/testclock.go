// Package testclock is the one settable clock authd's tests share: a time
// source that moves only when a test says so, with timers that fire as it
// moves. Services, limiters, the denylist and the bcrypt gate all take a
// func() time.Time or a small Clock interface, so one fake serves them
// all and expiry, grace and retry windows are tested without sleeping.
//
// It is for tests only; pkg/ packages keep their own, since they must not
// import authd's internal tree.
package testclock

import (
	"sync"
	"time"
)

// Clock is a fake clock, safe for concurrent use. Its zero value is not
// usable; make one with New.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

// New returns a Clock that reads start until it is advanced.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time; pass the method value where a
// func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and fires the timers then due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			t.c <- c.now
		}
	}
}

// NewTimer returns a channel that receives the clock's time once it has
// been advanced by d or more, and a function that stops the timer and
// reports whether it was still pending (the shape admission.Clock wants).
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}
