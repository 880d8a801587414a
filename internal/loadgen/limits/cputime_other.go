//go:build !unix

package limits

import "time"

// processCPU is not measured here: CPU figures are reported as 0.
func processCPU() time.Duration { return 0 }
