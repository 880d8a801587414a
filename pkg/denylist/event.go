package denylist

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventKind says which kind of entry an Event revokes; its value is the
// first word of the published message.
type EventKind string

// Event kinds, one per kind of entry.
const (
	EventToken   EventKind = "jti"
	EventSession EventKind = "sid"
	EventUser    EventKind = "sub"
)

// Event is one revocation as Redis publishes it on <prefix>events; see the
// package doc for the wire format.
type Event struct {
	Kind EventKind
	// ID is the jti, sid or subject.
	ID string
	// Until is when the entry may be forgotten, in whole seconds (rounded
	// up, so a mirror never forgets before Redis does).
	Until time.Time
	// Cutoff is set for EventUser only, in whole seconds: tokens with
	// iat < Cutoff are refused.
	Cutoff time.Time
}

// String encodes e as published: "<kind> <until> [<cutoff> ]<id>".
func (e Event) String() string {
	var b strings.Builder
	b.Grow(len(e.ID) + 32)
	b.WriteString(string(e.Kind))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(ceilUnix(e.Until), 10))
	if e.Kind == EventUser {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(e.Cutoff.Unix(), 10))
	}
	b.WriteByte(' ')
	b.WriteString(e.ID)
	return b.String()
}

// ParseEvent decodes a message published on <prefix>events. The id runs to
// the end of the message, so it may contain spaces. A malformed message is
// an error matching ErrInvalidArgument.
func ParseEvent(msg string) (Event, error) {
	kind, rest, _ := strings.Cut(msg, " ")
	e := Event{Kind: EventKind(kind)}
	fields := 2 // until, id
	switch e.Kind {
	case EventToken, EventSession:
	case EventUser:
		fields = 3 // until, cutoff, id
	default:
		return Event{}, fmt.Errorf("%w: event %q: unknown kind", ErrInvalidArgument, msg)
	}
	parts := strings.SplitN(rest, " ", fields)
	if len(parts) != fields || parts[fields-1] == "" {
		return Event{}, fmt.Errorf("%w: event %q: want %d fields after the kind", ErrInvalidArgument, msg, fields)
	}
	until, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("%w: event %q: until: %w", ErrInvalidArgument, msg, err)
	}
	e.Until = time.Unix(until, 0)
	if e.Kind == EventUser {
		cutoff, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("%w: event %q: cutoff: %w", ErrInvalidArgument, msg, err)
		}
		e.Cutoff = time.Unix(cutoff, 0)
	}
	e.ID = parts[fields-1]
	return e, nil
}

// ceilUnix returns t in unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
