package mongostore

import (
	"slices"
	"time"
)

// Times are stored as int64 Unix microseconds (BSON dates keep only
// milliseconds, and the contract keeps microseconds), 0 for the zero time.
// A document that the TTL monitor may delete also carries expire_at, a BSON
// date used by the TTL index only: nothing reads it.

// micros is t's stored form.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros reads a time micros wrote, in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// canon returns t as a read will: truncated to the microsecond, in UTC.
func canon(t time.Time) time.Time { return fromMicros(micros(t)) }

// list returns l, never nil.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// sortedRoles returns roles sorted and deduplicated without empty names
// (an empty name is no role), never nil.
func sortedRoles(roles []string) []string {
	out := slices.DeleteFunc(slices.Clone(list(roles)), func(r string) bool { return r == "" })
	slices.Sort(out)
	return slices.Compact(out)
}
