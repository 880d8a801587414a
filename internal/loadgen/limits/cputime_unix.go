//go:build unix

package limits

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time this process has used
// (every thread), or 0 where it cannot be read.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
