package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// unlockTimeout bounds the unlock after fn returns, which runs even when
// the caller's context is done.
const unlockTimeout = 10 * time.Second

// WithAdvisoryLock runs fn while holding the lock named by key.
//
// On Postgres it is a session-level advisory lock (pg_advisory_lock on the
// 64-bit FNV-1a hash of "authd/"+key) held by a connection taken from the
// pool for the duration, so it is exclusive across every replica using the
// same database. The lock is released even when ctx is done; if the unlock
// fails, the connection is discarded, which releases it too.
//
// On MySQL it is GET_LOCK on a name derived from the database and key,
// held by a connection taken from the pool for the duration, with the same
// release guarantees.
//
// On SQLite it is a mutex of this Store, keyed by name: exclusive within the
// process only. Keys should be a small fixed set (each one keeps a tiny
// entry for the life of the Store).
//
// fn must not call WithAdvisoryLock with the same key, or Migrate (which
// takes its own lock).
func (s *Store) WithAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	if s.d.mysql {
		return s.mysqlAdvisoryLock(ctx, key, fn)
	}
	if !s.d.postgres {
		unlock, err := s.locks.lock(ctx, key)
		if err != nil {
			return fmt.Errorf("sqlstore: lock %q: %w", key, err)
		}
		defer unlock()
		return fn(ctx)
	}
	return s.pgAdvisoryLock(ctx, key, fn)
}

func (s *Store) pgAdvisoryLock(ctx context.Context, key string, fn func(ctx context.Context) error) (err error) {
	id := lockID(key)
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: lock %q: %w", key, classify(err))
	}
	// Whether a failed or cancelled pg_advisory_lock left the lock held is
	// unknowable, so the connection is discarded rather than pooled.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		discard(conn.Raw)
		conn.Close()
		return fmt.Errorf("sqlstore: lock %q: %w", key, classify(err))
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		var released bool
		if uerr := conn.QueryRowContext(uctx, `SELECT pg_advisory_unlock($1)`, id).Scan(&released); uerr != nil || !released {
			// Closing the session releases its locks; fn's outcome stands.
			s.log.Warn("advisory unlock failed; discarding connection", "key", key, "released", released, "err", uerr)
			discard(conn.Raw)
		}
		conn.Close()
	}()
	return fn(ctx)
}

// discard makes database/sql close a connection instead of pooling it.
func discard(raw func(func(any) error) error) {
	_ = raw(func(any) error { return driver.ErrBadConn })
}

// lockID maps a lock name to a Postgres advisory lock key. The prefix keeps
// authd's keys apart from other applications sharing the database.
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("authd/" + key))
	return int64(h.Sum64())
}

// keyLocks is a set of context-aware mutexes, one per key.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newKeyLocks() *keyLocks { return &keyLocks{m: make(map[string]chan struct{})} }

func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	ch, ok := k.m[key]
	if !ok {
		ch = make(chan struct{}, 1)
		k.m[key] = ch
	}
	k.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
