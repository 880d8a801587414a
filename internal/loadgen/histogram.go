package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of
// values is split into 2^(subBits-1) equal buckets, so a recorded value is
// known to within 1/2^(subBits-1) (0.8%) of itself.
const (
	subBits    = 8
	subCount   = 1 << subBits // values below this are exact
	halfCount  = subCount / 2 // buckets per power of two above it
	numBuckets = (64-subBits+1)*halfCount + halfCount
)

// Histogram records durations in log-linear buckets (the HdrHistogram
// layout): exact below 256 ns, then 128 buckets per power of two, so memory
// is fixed (about 60 KB) whatever the count and percentiles are correct to
// within 0.8%. The zero value is ready to use. It is not safe for
// concurrent use: give each worker its own and Merge them.
type Histogram struct {
	counts   [numBuckets]uint64
	count    uint64
	sum      float64
	min, max uint64
}

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return shift*halfCount + int(v>>uint(shift))
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := i/halfCount - 1
	top := uint64(i - shift*halfCount)
	lo = top << uint(shift)
	return lo, lo + (1 << uint(shift)) - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += float64(v)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.count += o.count
	h.sum += o.sum
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count }

// Min returns the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest recorded value, exactly (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean of the recorded values (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.count))
}

// Quantile returns the value below or at which a fraction q (0 ≤ q ≤ 1) of
// the recorded values lie: the value of rank ⌈q·n⌉ (nearest rank), given as
// the top of its bucket and never above Max, so it errs high by at most
// 0.8%. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
