package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockKey returns a key unique to this run: Postgres advisory locks are
// shared by everything using the database, other test runs included.
func lockKey(name string) string { return "storetest/" + name + "/" + rand.Text() }

func testAdvisoryLockExclusion(t *testing.T, s Store) {
	key := lockKey("exclusion")
	var inside, maxInside, runs atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				err := s.WithAdvisoryLock(ctxT(t), key, func(ctx context.Context) error {
					n := inside.Add(1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(5 * time.Millisecond) // widen the window an overlap would need
					runs.Add(1)
					inside.Add(-1)
					return nil
				})
				if err != nil {
					t.Errorf("WithAdvisoryLock: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Errorf("%d holders at once, want 1", m)
	}
	if r := runs.Load(); r != 12 {
		t.Errorf("fn ran %d times, want 12", r)
	}
}

func testAdvisoryLockBehaviour(t *testing.T, s Store) {
	t.Run("returns fn error and releases", func(t *testing.T) {
		key, boom := lockKey("error"), errors.New("boom")
		err := s.WithAdvisoryLock(ctxT(t), key, func(context.Context) error { return boom })
		wantErr(t, "WithAdvisoryLock", err, boom)
		ran := false
		err = s.WithAdvisoryLock(ctxT(t), key, func(context.Context) error { ran = true; return nil })
		wantErr(t, "WithAdvisoryLock again", err, nil)
		if !ran {
			t.Error("fn did not run after the lock was released")
		}
	})
	t.Run("other keys are independent", func(t *testing.T) {
		a, b := lockKey("a"), lockKey("b")
		err := s.WithAdvisoryLock(ctxT(t), a, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return s.WithAdvisoryLock(ctx, b, func(context.Context) error { return nil })
		})
		wantErr(t, "nested other key", err, nil)
	})
	t.Run("waiting honours the context", func(t *testing.T) {
		key := lockKey("wait")
		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.WithAdvisoryLock(ctxT(t), key, func(context.Context) error {
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		ctx, cancel := context.WithTimeout(ctxT(t), 200*time.Millisecond)
		defer cancel()
		ran := false
		err := s.WithAdvisoryLock(ctx, key, func(context.Context) error { ran = true; return nil })
		if err == nil || ran {
			t.Errorf("WithAdvisoryLock while held elsewhere: err=%v ran=%v, want an error and no run", err, ran)
		}
		close(release)
		wantErr(t, "holder", <-done, nil)
		// A cancelled wait must not leave the lock taken.
		err = s.WithAdvisoryLock(ctxT(t), key, func(context.Context) error { return nil })
		wantErr(t, "after cancelled wait", err, nil)
	})
}
