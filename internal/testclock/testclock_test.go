package testclock_test

import (
	"testing"
	"time"

	"github.com/authd/authd/internal/testclock"
)

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		timer     time.Duration
		advance   time.Duration
		stop      bool
		wantFired bool
	}{
		{name: "due", timer: time.Second, advance: time.Second, wantFired: true},
		{name: "not yet", timer: time.Second, advance: time.Second - 1},
		{name: "stopped", timer: time.Second, advance: time.Second, stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testclock.New(start)
			ch, stop := c.NewTimer(tt.timer)
			if tt.stop && !stop() {
				t.Fatal("stop of a pending timer reported false")
			}
			c.Advance(tt.advance)
			if got := c.Now(); !got.Equal(start.Add(tt.advance)) {
				t.Fatalf("Now = %v, want %v", got, start.Add(tt.advance))
			}
			select {
			case <-ch:
				if !tt.wantFired {
					t.Fatal("timer fired early or after stop")
				}
			default:
				if tt.wantFired {
					t.Fatal("timer did not fire")
				}
			}
		})
	}
}
