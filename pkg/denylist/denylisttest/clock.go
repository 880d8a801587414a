package denylisttest

import "time"

// clockSkew is how far the suite's clock runs ahead of the real one. A
// backend that read time.Now instead of the injected clock would then keep
// entries the suite considers past and drop ones it considers live, and
// fail; one that follows the clock, as Redis does with relative TTLs, is
// unaffected by a skew between itself and the server.
const clockSkew = time.Hour

// skewedClock returns the clock handed to backends: real time, so Redis
// TTLs and sleeps agree with it, shifted by clockSkew.
func skewedClock() func() time.Time {
	return func() time.Time { return time.Now().Add(clockSkew) }
}
