package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// numShards spreads keys over this many locks, so that concurrent requests
// for different keys rarely wait for each other.
const numShards = 64

// minSweep is the smallest shard size at which a sweep runs.
const minSweep = 64

// shards is a map from key to state, split into locked shards, holding at
// most about maxKeys entries. It starts no goroutine: entries whose state
// has run out are dropped by sweeps that run when a shard has doubled
// since the last one, so their cost is amortised over the insertions.
type shards[V any] struct {
	seed     maphash.Seed
	perShard int
	// expired reports whether v, read at now, is the same as no entry.
	expired func(v V, now time.Duration) bool
	s       [numShards]shard[V]
}

// shard is one lock and its part of the map.
type shard[V any] struct {
	mu      sync.Mutex
	m       map[string]V
	sweepAt int // a new key arriving at this length sweeps first
	_       [40]byte
}

func newShards[V any](maxKeys int, expired func(V, time.Duration) bool) *shards[V] {
	s := &shards[V]{
		seed:     maphash.MakeSeed(),
		perShard: max(1, (maxKeys+numShards-1)/numShards),
		expired:  expired,
	}
	for i := range s.s {
		s.s[i].m = make(map[string]V)
		s.s[i].sweepAt = min(minSweep, s.perShard)
	}
	return s
}

// lock returns key's shard, locked; the caller unlocks it.
func (s *shards[V]) lock(key string) *shard[V] {
	sh := &s.s[maphash.String(s.seed, key)%numShards]
	sh.mu.Lock()
	return sh
}

// store sets key to v in sh, which the caller holds locked; a new key may
// trigger a sweep of sh first.
func (s *shards[V]) store(sh *shard[V], key string, v V, now time.Duration) {
	if _, ok := sh.m[key]; !ok && len(sh.m) >= sh.sweepAt {
		s.sweep(sh, now)
	}
	sh.m[key] = v
}

// sweep drops sh's expired entries and, if it is still full, an eighth of
// it chosen arbitrarily (map order), so that a full shard of live keys
// sweeps once per perShard/8 insertions and not on every one.
func (s *shards[V]) sweep(sh *shard[V], now time.Duration) {
	for k, v := range sh.m {
		if s.expired(v, now) {
			delete(sh.m, k)
		}
	}
	if len(sh.m) >= s.perShard {
		keep := s.perShard - max(1, s.perShard/8)
		for k := range sh.m {
			if len(sh.m) <= keep {
				break
			}
			delete(sh.m, k)
		}
	}
	sh.sweepAt = min(max(minSweep, 2*len(sh.m)), s.perShard)
}

// len returns the number of entries held, expired ones not yet swept
// included.
func (s *shards[V]) len() int {
	n := 0
	for i := range s.s {
		sh := &s.s[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
