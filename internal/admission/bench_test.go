package admission_test

import (
	"context"
	"testing"

	"github.com/authd/authd/internal/admission"
)

// BenchmarkAcquireRelease is the cost the gate adds to an uncontended
// bcrypt call.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		g := admission.New(1, 0, 0)
		b.ReportAllocs()
		for b.Loop() {
			release, err := g.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		g := admission.New(0, 1<<20, 0) // contended when goroutines > GOMAXPROCS
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				release, err := g.Acquire(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				release()
			}
		})
	})
}
