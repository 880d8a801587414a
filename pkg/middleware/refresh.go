package middleware

import (
	"log/slog"
	"time"
)

// startFetch starts a fetch, or returns the one in flight. Unless force,
// it returns nil when the last fetch started less than the refetch
// interval ago; it always returns nil once the set is closed.
func (r *RemoteKeySet) startFetch(force bool) *fetchCall {
	if c := r.inflight.Load(); c != nil {
		return c
	}
	now := r.cfg.now()
	if !force && r.recent(now) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.inflight.Load(); c != nil {
		return c
	}
	if r.closed || r.life.Err() != nil || !force && r.recent(now) {
		return nil
	}
	call := &fetchCall{done: make(chan struct{})}
	r.inflight.Store(call)
	r.lastAttempt.Store(now.UnixNano())
	r.wg.Add(1)
	go r.run(call)
	if !r.looping {
		r.looping = true
		r.wg.Add(1)
		go r.refreshLoop()
	}
	return call
}

// recent reports whether the last fetch started less than the refetch
// interval before now.
func (r *RemoteKeySet) recent(now time.Time) bool {
	last := r.lastAttempt.Load()
	return last != 0 && now.UnixNano()-last < int64(r.cfg.refetchInterval)
}

// run performs one fetch and publishes its outcome.
func (r *RemoteKeySet) run(call *fetchCall) {
	defer r.wg.Done()
	st, err := r.fetch(r.life)
	r.mu.Lock()
	if err == nil {
		r.state.Store(st)
		r.failures, r.lastErr = 0, nil
	} else {
		r.failures++
		r.lastErr = err
		r.jwksURL = "" // rediscover: the issuer may have moved its keys
	}
	had := r.state.Load() != nil
	call.err = err
	r.inflight.Store(nil)
	r.mu.Unlock()
	close(call.done)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if err != nil && r.life.Err() == nil {
		msg := "key set fetch failed; keeping the last good set"
		if !had {
			msg = "key set fetch failed; no key set: tokens cannot be verified"
		}
		r.cfg.logger.LogAttrs(r.life, slog.LevelWarn, msg, slog.String("source", r.source), slog.Any("error", err))
	}
}

// refreshLoop refetches the set before it goes stale, and retries with
// backoff after a failure, until the set is closed.
func (r *RemoteKeySet) refreshLoop() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var tick <-chan time.Time
		if d, ok := r.nextRefresh(); ok {
			timer.Reset(d)
			tick = timer.C
		}
		select {
		case <-r.life.Done():
			return
		case <-r.wake:
			timer.Stop()
		case <-tick:
			if call := r.startFetch(true); call != nil {
				select {
				case <-call.done:
				case <-r.life.Done():
					return
				}
			}
		}
	}
}

// nextRefresh returns how long to wait before the next background fetch:
// three quarters of the set's TTL after it was fetched, or a backoff after
// failures, and never sooner than the refetch interval after the last
// fetch. ok is false while a fetch is in flight.
func (r *RemoteKeySet) nextRefresh() (d time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight.Load() != nil {
		return 0, false
	}
	now := r.cfg.now()
	last := time.Unix(0, r.lastAttempt.Load())
	var at time.Time
	if st := r.state.Load(); st != nil && r.failures == 0 {
		at = st.fetchedAt.Add(st.ttl * 3 / 4)
	} else {
		backoff := r.cfg.refetchInterval << min(max(r.failures-1, 0), 16)
		at = last.Add(min(backoff, max(maxRetryBackoff, r.cfg.refetchInterval)))
	}
	if earliest := last.Add(r.cfg.refetchInterval); at.Before(earliest) {
		at = earliest
	}
	return max(at.Sub(now), 0), true
}
