package middleware

import (
	"context"
	"crypto"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/authd/authd/pkg/token"
)

// DefaultVerifiedCacheSize is the number of verified token strings a
// Verifier remembers unless WithVerifiedCache says otherwise: about 10 MB
// at authd's token sizes.
const DefaultVerifiedCacheSize = 10_000

// The cache is split into shards, each under its own lock, so that
// concurrent requests for different tokens rarely meet on one lock.
const (
	cacheShards = 16
	// evictionSample is how many entries a full shard looks at to find
	// one to drop: an expired one if any, else the first seen.
	evictionSample = 4
)

// verifiedCache remembers tokens whose signature and claims were verified,
// so that a repeated token skips the signature check. It holds only
// tokens that passed; what can change after verification (the time and
// the key set) is checked again on every hit by Verifier.cached. The
// revocation check is never cached, either way: it runs after every hit,
// so the entry of a revoked token only spares the signature check before
// the token is refused again.
//
// Entries are keyed on a 64-bit maphash of the token string with a random
// per-cache seed; a hit also compares the stored string, so a collision
// is a miss, never another token's claims. Each shard holds at most its
// share of the size; a full shard drops an entry picked from a short scan
// starting at the random place Go map iteration begins, preferring an
// expired one. That is random eviction: no bookkeeping on hits, so a hit
// takes only a read lock.
type verifiedCache struct {
	seed     maphash.Seed
	mask     uint64
	perShard int
	leeway   time.Duration
	shards   []cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]*cacheEntry
	_  [64]byte // keeps two shards' locks off one cache line
}

// cacheEntry is one verified token; it is never modified once stored.
type cacheEntry struct {
	raw    string     // the token, for the collision check
	claims Claims     // handed out as copies only
	kid    string     // the kid the key was looked up with ("" if none)
	key    *token.Key // the key that verified the signature
	nbf    time.Time  // zero when the token has none
}

// newVerifiedCache returns a cache of at most size entries, or nil for
// size 0 (disabled).
func newVerifiedCache(size int, leeway time.Duration) *verifiedCache {
	if size <= 0 {
		return nil
	}
	n := cacheShards
	if size < 16*cacheShards {
		n = 1 // small caches: one exact bound rather than rounded shares
	}
	c := &verifiedCache{
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		perShard: size / n,
		leeway:   leeway,
		shards:   make([]cacheShard, n),
	}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

func (c *verifiedCache) locate(raw string) (uint64, *cacheShard) {
	h := maphash.String(c.seed, raw)
	return h, &c.shards[h&c.mask]
}

// get returns the entry of raw, or nil.
func (c *verifiedCache) get(raw string) *cacheEntry {
	h, s := c.locate(raw)
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e == nil || e.raw != raw {
		return nil
	}
	return e
}

// put stores e, dropping another entry if the shard is full.
func (c *verifiedCache) put(e *cacheEntry, now time.Time) {
	h, s := c.locate(e.raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		c.evictOne(s, now)
	}
	s.m[h] = e
}

// evictOne drops one entry of a full shard, held under its write lock.
func (c *verifiedCache) evictOne(s *cacheShard, now time.Time) {
	var victim uint64
	seen := 0
	for h, e := range s.m {
		if seen == 0 {
			victim = h
		}
		if !now.Before(e.claims.ExpiresAt.Add(c.leeway)) {
			victim = h
			break
		}
		if seen++; seen == evictionSample {
			break
		}
	}
	delete(s.m, victim)
}

// remove drops e if it is still the entry of its token.
func (c *verifiedCache) remove(e *cacheEntry) {
	h, s := c.locate(e.raw)
	s.mu.Lock()
	if s.m[h] == e {
		delete(s.m, h)
	}
	s.mu.Unlock()
}

// len returns the number of entries.
func (c *verifiedCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// cached returns the claims of raw when the cache holds it and it would
// pass verification again now: inside its lifetime by the Verifier's
// clock and leeway (the same rules as pkg/token), within the lifetime
// bound as it is now, and its kid still naming the key that verified it,
// not retired before the token's iat. Otherwise it returns nil, dropping the
// entry if there is one: the caller verifies in full, which also gives the
// exact error.
func (v *Verifier) cached(ctx context.Context, raw string) *Claims {
	e := v.cache.get(raw)
	if e == nil {
		return nil
	}
	if !v.lifetimeValid(e, v.now()) || !v.lifetimeAllowed(&e.claims) || !v.keyStillValid(ctx, e) {
		v.cache.remove(e)
		return nil
	}
	return e.claims.clone()
}

// lifetimeValid applies pkg/token's time rules to a cached token. The
// clock may move backwards in tests.
func (v *Verifier) lifetimeValid(e *cacheEntry, now time.Time) bool {
	return token.WithinValidity(now, e.claims.IssuedAt, e.nbf, e.claims.ExpiresAt, v.leeway)
}

// keyStillValid reports whether the key set still gives, for the token's
// kid, the key that verified it, and whether that key's retirement (which
// may have been set since) still admits the token's iat. A key set may
// rebuild its keys (authd's key ring does on every reload), so an equal
// key under the same id and algorithm counts as the same; a removed
// (revoked) or replaced key does not.
func (v *Verifier) keyStillValid(ctx context.Context, e *cacheEntry) bool {
	k, err := v.keys.VerificationKey(ctx, e.kid)
	if err != nil || k == nil {
		return false
	}
	if k.IssuedAfterRetirement(e.claims.IssuedAt, v.leeway) {
		return false
	}
	if k == e.key {
		return true
	}
	if k.ID != e.key.ID || k.Algorithm != e.key.Algorithm {
		return false
	}
	pub, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(e.key.Public)
}

// store caches a token that token.Checker has just accepted.
func (v *Verifier) store(raw string, c *Claims, rec *keyRecord, nbf time.Time) {
	if rec.key == nil {
		return // the key set was not consulted: nothing to re-check a hit against
	}
	v.cache.put(&cacheEntry{
		// A copy: raw may share memory with a request buffer.
		raw:    strings.Clone(raw),
		claims: *c.clone(),
		kid:    rec.kid,
		key:    rec.key,
		nbf:    nbf,
	}, v.now())
}

// clone returns a copy of c that shares no slice with it, so that neither
// the caller nor the cache can change the other's claims. Audience and
// Roles and AMR share one allocation, each capped so that an append
// copies.
func (c *Claims) clone() *Claims {
	out := *c
	na, nr, nm := len(c.Audience), len(c.Roles), len(c.AMR)
	buf := []string{} // not nil, and no allocation when all are empty
	if na+nr+nm > 0 {
		buf = make([]string, na+nr+nm)
		copy(buf, c.Audience)
		copy(buf[na:], c.Roles)
		copy(buf[na+nr:], c.AMR)
	}
	if c.Audience != nil { // nil stays nil: JSON encodes it differently
		out.Audience = buf[:na:na]
	}
	if c.Roles != nil {
		out.Roles = buf[na : na+nr : na+nr]
	}
	if c.AMR != nil {
		out.AMR = buf[na+nr : na+nr+nm : na+nr+nm]
	}
	return &out
}

// keyRecord receives the key token.Checker looked up for one token.
type keyRecord struct {
	kid string
	key *token.Key
}

// keyRecordKey is the context key under which Verify passes a keyRecord
// to recordingKeySet.
type keyRecordKey struct{}

// recordingKeySet is the KeySet token.Checker sees when the cache is on:
// it notes the key it returns in the keyRecord of the context, so that a
// cache entry knows exactly which key verified it, without parsing the
// header a second time.
type recordingKeySet struct{ token.KeySet }

var _ token.KeySet = recordingKeySet{}

func (r recordingKeySet) VerificationKey(ctx context.Context, kid string) (*token.Key, error) {
	k, err := r.KeySet.VerificationKey(ctx, kid)
	if err == nil && k != nil {
		if rec, ok := ctx.Value(keyRecordKey{}).(*keyRecord); ok {
			rec.kid, rec.key = kid, k
		}
	}
	return k, err
}
