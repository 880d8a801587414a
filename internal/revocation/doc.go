// Package revocation makes the store the source of truth of the denylist.
//
// A Recorder wraps the denylist the service writes: every revocation is
// recorded in the store (store.RevocationLog) before the denylist write,
// and the call returns only after both. The denylist carries a generation
// marker (the highest store id it is known to hold); Sync compares it, and
// the identity of the Redis servers, with the store, and Rebuild writes
// every live revocation again when the denylist is empty, behind, flushed,
// restarted or failed over. Until a rebuild is done every Check fails with
// denylist.ErrUnavailable (503), never a stale "not revoked".
//
// It knows nothing of HTTP or of Redis commands: the Redis part (marker,
// batched restore, WAIT) lives in pkg/denylist.
package revocation
