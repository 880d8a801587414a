package limits

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Bcrypt is the bcrypt bound: the most password checks per second the
// machine's CPUs can do.
type Bcrypt struct {
	Cost int `json:"cost"`
	CPUs int `json:"cpus"`
	// Samples is how many compares were timed; PerCompare is their median.
	Samples    int           `json:"samples"`
	PerCompare time.Duration `json:"per_compare_ns"`
	// CPUPerCompare is the process CPU time per compare (0 where not
	// measured): unlike PerCompare, other processes do not inflate it.
	CPUPerCompare time.Duration `json:"cpu_per_compare_ns"`
}

// Rate returns CPUs ÷ PerCompare.
func (b Bcrypt) Rate() float64 { return perSecond(float64(b.CPUs), b.PerCompare) }

// Basis describes the bound for a report.
func (b Bcrypt) Basis() string {
	return fmt.Sprintf("%d CPUs ÷ %s (bcrypt cost %d)", b.CPUs, b.PerCompare.Round(100*time.Microsecond), b.Cost)
}

// MeasureBcrypt times samples successful compares at cost, one at a time
// on one goroutine, and takes the median; CPUs is runtime.NumCPU().
func MeasureBcrypt(ctx context.Context, cost, samples int) (Bcrypt, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return Bcrypt{}, fmt.Errorf("bcrypt cost %d: want %d to %d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if samples < 1 || samples > 1000 {
		return Bcrypt{}, fmt.Errorf("bcrypt samples %d: want 1 to 1000", samples)
	}
	pw := []byte("correct horse battery staple")
	hash, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return Bcrypt{}, err
	}
	times := make([]time.Duration, 0, samples)
	cpu0 := processCPU()
	for range samples {
		if err := ctx.Err(); err != nil {
			return Bcrypt{}, err
		}
		start := time.Now()
		if err := bcrypt.CompareHashAndPassword(hash, pw); err != nil {
			return Bcrypt{}, err
		}
		times = append(times, time.Since(start))
	}
	cpu := (processCPU() - cpu0) / time.Duration(samples)
	slices.Sort(times)
	return Bcrypt{Cost: cost, CPUs: runtime.NumCPU(), Samples: samples, PerCompare: times[len(times)/2], CPUPerCompare: cpu}, nil
}
