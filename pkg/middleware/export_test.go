package middleware

import (
	"context"
	"sync/atomic"

	"github.com/authd/authd/pkg/token"
)

// CacheTTL exposes cacheTTL to the external tests.
var CacheTTL = cacheTTL

// CountVerifications makes v count its full (uncached) verifications.
// Call it before v is used concurrently.
func CountVerifications(v *Verifier) *atomic.Int64 {
	n := new(atomic.Int64)
	inner := v.verifyToken
	v.verifyToken = func(ctx context.Context, raw string) (*token.Payload, error) {
		n.Add(1)
		return inner(ctx, raw)
	}
	return n
}

// CacheLen returns the number of entries in v's verified-token cache.
func CacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// LastFetchAttempt is when ks last started a fetch (UnixNano by its clock;
// 0 before any): a test compares it before and after a call to prove the
// call started none, without sleeping for one to land.
func LastFetchAttempt(ks *RemoteKeySet) int64 { return ks.lastAttempt.Load() }
