package denylist

import (
	"context"
	"sync"
	"time"
)

var _ Denylist = (*Memory)(nil)

// Memory is a Denylist held in the process. It suits a single authd
// replica or tests; replicas that must see each other's revocations need
// Redis. It is safe for concurrent use and starts no goroutine: expired
// entries are ignored on read and dropped by a sweep that runs on writes
// at most once per sweep interval, so nothing needs closing.
type Memory struct {
	now        func() time.Time
	sweepEvery time.Duration

	mu        sync.RWMutex
	tokens    map[string]time.Time // jti → until
	sessions  map[string]time.Time // sid → until
	users     map[string]userCutoff
	lastSweep time.Time
}

// userCutoff is a per-user entry: tokens issued before cutoff (unix
// seconds) are refused until `until`.
type userCutoff struct {
	cutoff int64
	until  time.Time
}

// NewMemory returns an empty Memory.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{
		now:        time.Now,
		sweepEvery: DefaultSweepInterval,
		tokens:     make(map[string]time.Time),
		sessions:   make(map[string]time.Time),
		users:      make(map[string]userCutoff),
	}
	for _, o := range opts {
		o.applyMemory(m)
	}
	m.lastSweep = m.now()
	return m
}

// Check implements Checker. It takes a read lock and three map look-ups and
// allocates nothing, so it is cheap enough for every request.
func (m *Memory) Check(_ context.Context, t Token) error {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if t.JTI != "" {
		if until, ok := m.tokens[t.JTI]; ok && now.Before(until) {
			return errTokenRevoked
		}
	}
	if t.SID != "" {
		if until, ok := m.sessions[t.SID]; ok && now.Before(until) {
			return errSessionRevoked
		}
	}
	if t.Subject != "" {
		if u, ok := m.users[t.Subject]; ok && now.Before(u.until) && cutoffRevokes(u.cutoff, t.IssuedAt) {
			return errUserRevoked
		}
	}
	return nil
}

// RevokeToken implements Denylist. Memory keys tokens and sessions by
// their id alone (ids are unique), so the subject is not needed.
func (m *Memory) RevokeToken(_ context.Context, _, jti string, until time.Time) error {
	if err := validateIDs("jti", jti); err != nil {
		return err
	}
	m.revoke(m.tokens, jti, until)
	return nil
}

// RevokeSessions implements Denylist.
func (m *Memory) RevokeSessions(_ context.Context, _ string, sids []string, until time.Time) error {
	if err := validateIDs("sid", sids...); err != nil {
		return err
	}
	m.write(until, func(now, until time.Time) {
		for _, sid := range sids {
			extend(m.sessions, sid, until)
		}
	})
	return nil
}

// RevokeUserBefore implements Denylist.
func (m *Memory) RevokeUserBefore(_ context.Context, subject string, cutoff, until time.Time) error {
	if err := validateIDs("subject", subject); err != nil {
		return err
	}
	m.revokeUser(subject, cutoff.Unix(), until)
	return nil
}

// revokeUser records a cutoff in unix seconds, keeping a greater cutoff
// and a later until already there.
func (m *Memory) revokeUser(subject string, cutoff int64, until time.Time) {
	m.write(until, func(now, until time.Time) {
		next := userCutoff{cutoff: cutoff, until: until}
		if cur, ok := m.users[subject]; ok && now.Before(cur.until) {
			next.cutoff = max(next.cutoff, cur.cutoff)
			next.until = later(next.until, cur.until)
		}
		m.users[subject] = next
	})
}

// Ping implements Denylist; memory always answers.
func (m *Memory) Ping(context.Context) error { return nil }

// Len returns the number of entries held, expired ones not yet swept
// included; it is meant for metrics and tests.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.tokens) + len(m.sessions) + len(m.users)
}

// write runs apply under the write lock unless until is already past, and
// sweeps first when the sweep interval has elapsed: tying sweeps to writes
// bounds memory without a background goroutine to leak.
func (m *Memory) write(until time.Time, apply func(now, until time.Time)) {
	now := m.now()
	if !now.Before(until) {
		return // would refuse nothing: every token it names has expired
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.lastSweep) >= m.sweepEvery {
		m.sweep(now)
	}
	apply(now, until)
}

// sweep drops every expired entry. It holds the write lock for a pass over
// all entries, which is why it runs once per interval and not per write.
func (m *Memory) sweep(now time.Time) {
	for k, until := range m.tokens {
		if !now.Before(until) {
			delete(m.tokens, k)
		}
	}
	for k, until := range m.sessions {
		if !now.Before(until) {
			delete(m.sessions, k)
		}
	}
	for k, u := range m.users {
		if !now.Before(u.until) {
			delete(m.users, k)
		}
	}
	m.lastSweep = now
}

// extend records key until `until`, keeping a later expiry already there.
func extend(entries map[string]time.Time, key string, until time.Time) {
	if cur, ok := entries[key]; ok && cur.After(until) {
		return
	}
	entries[key] = until
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
