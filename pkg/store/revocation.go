package store

import (
	"context"
	"time"
)

// Kinds of Revocation: which denylist entry it restores.
const (
	// RevocationToken refuses one access token: Value is its jti.
	RevocationToken = "token"
	// RevocationSession refuses every access token of one session: Value
	// is its sid.
	RevocationSession = "session"
	// RevocationCutoff refuses every token of Subject issued before
	// Cutoff (logout-all, password change, user or client disabled).
	RevocationCutoff = "cutoff"
)

// Revocation is one denylist entry as authd wrote it, kept in the store so
// that a denylist that lost it (a Redis restart without persistence, a
// failover that dropped writes) can be rebuilt. It never holds a secret:
// ids and times only.
type Revocation struct {
	// ID is allocated by the store, increasing: the highest one is the
	// store's revocation generation.
	ID      int64
	Kind    string // RevocationToken, RevocationSession or RevocationCutoff
	Subject string
	// Value is the jti or sid; empty for a cutoff.
	Value string
	// Cutoff is set for RevocationCutoff only.
	Cutoff time.Time
	// Until is when the entry stops mattering (the latest exp a token it
	// refuses can have); after it the row may be purged.
	Until     time.Time
	CreatedAt time.Time
}

// RevocationLog is the durable record of denylist writes.
type RevocationLog interface {
	// RecordRevocations inserts rs in one transaction, in order, and
	// returns them with ID and CreatedAt set; each ID is above every ID
	// allocated before the call began. A Kind outside the three, a
	// session or token without Value, or a zero Until is an error
	// matching no sentinel.
	RecordRevocations(ctx context.Context, rs []Revocation) ([]Revocation, error)
	// LiveRevocations returns up to limit (1 to 10000) revocations whose
	// ID is above after and whose Until is after now, by ID ascending:
	// pass the last ID of one page as the next page's after.
	LiveRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]Revocation, error)
	// RevocationGeneration returns the highest ID allocated so far (0
	// before the first). It never decreases: purging keeps it.
	RevocationGeneration(ctx context.Context) (int64, error)
	// PurgeRevocations deletes up to limit (1 to 10000) revocations whose
	// Until is at or before `before`, oldest first, and returns how many
	// it deleted. It never lowers RevocationGeneration.
	PurgeRevocations(ctx context.Context, before time.Time, limit int) (int, error)
}

// MaxRevocationPage bounds LiveRevocations and PurgeRevocations.
const MaxRevocationPage = 10000

// ValidRevocation reports whether r is one RecordRevocations accepts.
func ValidRevocation(r Revocation) bool {
	if r.Until.IsZero() {
		return false
	}
	switch r.Kind {
	case RevocationToken, RevocationSession:
		return r.Value != ""
	case RevocationCutoff:
		return r.Subject != "" && !r.Cutoff.IsZero()
	}
	return false
}
