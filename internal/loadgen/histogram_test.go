package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

// maxRelErr is the histogram's promised precision.
const maxRelErr = 1.0 / 128

func TestHistogramQuantiles(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	seq := func(from, to int, unit time.Duration) []time.Duration {
		var v []time.Duration
		for i := from; i <= to; i++ {
			v = append(v, time.Duration(i)*unit)
		}
		return v
	}
	// 990 fast requests and 10 slow ones: the tail must show at p99.9, not p99.
	tail := append(seq(1, 990, time.Microsecond), seq(1, 10, time.Second)...)
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration // exact nearest-rank answer
	}{
		{"empty", nil, 0.5, 0},
		{"single p0", []time.Duration{us(250)}, 0, us(250)},
		{"single p50", []time.Duration{us(250)}, 0.5, us(250)},
		{"single p100", []time.Duration{us(250)}, 1, us(250)},
		{"exact small values p50", seq(0, 200, time.Nanosecond), 0.5, 100},
		{"uniform p50", seq(1, 1000, time.Microsecond), 0.5, us(500)},
		{"uniform p90", seq(1, 1000, time.Microsecond), 0.9, us(900)},
		{"uniform p99", seq(1, 1000, time.Microsecond), 0.99, us(990)},
		{"uniform max", seq(1, 1000, time.Microsecond), 1, us(1000)},
		{"uniform min", seq(1, 1000, time.Microsecond), 0, us(1)},
		{"two values p50 takes the lower", []time.Duration{us(10), us(20)}, 0.5, us(10)},
		{"two values p51 takes the upper", []time.Duration{us(10), us(20)}, 0.51, us(20)},
		{"tail p99", tail, 0.99, us(990)},
		{"tail p99.5", tail, 0.995, 5 * time.Second},
		{"tail max", tail, 1, 10 * time.Second},
		{"negative counts as zero", []time.Duration{-time.Second}, 0.5, 0},
		{"hours", []time.Duration{3 * time.Hour}, 0.99, 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Recorded in a shuffled order: order must not matter.
			v := append([]time.Duration(nil), tt.values...)
			rand.Shuffle(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
			var h Histogram
			for _, d := range v {
				h.Record(d)
			}
			got := h.Quantile(tt.q)
			hi := tt.want + time.Duration(float64(tt.want)*maxRelErr)
			if got < tt.want || got > hi {
				t.Errorf("Quantile(%v) = %v, want %v (up to %v)", tt.q, got, tt.want, hi)
			}
		})
	}
}

func TestHistogramStats(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatalf("empty histogram: count %d min %v max %v mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
	for _, d := range []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond} {
		h.Record(d)
	}
	if h.Count() != 3 || h.Min() != time.Millisecond || h.Max() != 3*time.Millisecond || h.Mean() != 2*time.Millisecond {
		t.Fatalf("count %d min %v max %v mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramMergeEqualsOneRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var all, a, b Histogram
	for i := range 10000 {
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&Histogram{}) // merging an empty one changes nothing
	m.Merge(&b)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, recorded together %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() {
		t.Errorf("merged count/min/max %d/%v/%v, want %d/%v/%v", m.Count(), m.Min(), m.Max(), all.Count(), all.Min(), all.Max())
	}
}

// TestBucketsCoverValues checks the layout itself: every value falls in a
// bucket whose range holds it and is at most maxRelErr wide, and buckets
// are in value order.
func TestBucketsCoverValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(v uint64) {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0,%d)", v, i, numBuckets)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d,%d]", v, i, lo, hi)
		}
		if lo > 0 && float64(hi-lo) > float64(lo)*maxRelErr {
			t.Fatalf("bucket %d [%d,%d] wider than %.2f%%", i, lo, hi, maxRelErr*100)
		}
	}
	for v := range uint64(5000) {
		check(v)
	}
	for range 100000 {
		check(rng.Uint64() >> rng.UintN(64))
	}
	check(^uint64(0))
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		if lo, _ := bucketRange(i); lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
}
