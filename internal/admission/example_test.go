package admission_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/internal/admission"
)

func Example() {
	// One gate per process, shared by everything that runs bcrypt.
	gate := admission.New(0, -1, 0) // GOMAXPROCS slots, 4× as many waiters, 2s wait

	release, err := gate.Acquire(context.Background())
	var overloaded *admission.OverloadedError
	switch {
	case errors.As(err, &overloaded):
		// Answer 503 temporarily_unavailable with
		// Retry-After: overloaded.RetryAfter in seconds; skip bcrypt.
		fmt.Println("busy, retry after", overloaded.RetryAfter)
		return
	case err != nil:
		return // the client went away
	}
	defer release()
	// ... bcrypt compare or hash here ...
	time.Sleep(time.Millisecond)
	fmt.Println("in flight:", gate.InFlight())
	// Output: in flight: 1
}
