package denylist_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/authd/authd/pkg/denylist"
)

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func sameEvent(a, b denylist.Event) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Until.Equal(b.Until) && a.Cutoff.Equal(b.Cutoff)
}

func TestEventRoundTrip(t *testing.T) {
	until, cutoff := time.Unix(1767229200, 0), time.Unix(1767225600, 0)
	for _, tc := range []struct {
		name  string
		event denylist.Event
		msg   string
	}{
		{"token", denylist.Event{Kind: denylist.EventToken, ID: "j1", Until: until}, "jti 1767229200 j1"},
		{"until rounded up", denylist.Event{Kind: denylist.EventToken, ID: "j1", Until: until.Add(-time.Millisecond)}, "jti 1767229200 j1"},
		{"session", denylist.Event{Kind: denylist.EventSession, ID: "s1", Until: until}, "sid 1767229200 s1"},
		{"user", denylist.Event{Kind: denylist.EventUser, ID: "u1", Until: until, Cutoff: cutoff}, "sub 1767229200 1767225600 u1"},
		{"id with spaces", denylist.Event{Kind: denylist.EventUser, ID: "a b  c", Until: until, Cutoff: cutoff}, "sub 1767229200 1767225600 a b  c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.event.String(); got != tc.msg {
				t.Errorf("String() = %q, want %q", got, tc.msg)
			}
			e, err := denylist.ParseEvent(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if e.String() != tc.msg {
				t.Errorf("ParseEvent(%q).String() = %q", tc.msg, e.String())
			}
		})
	}
}

func TestParseEventMalformed(t *testing.T) {
	for _, msg := range []string{
		"",
		"jti",
		"jti 1767229200",
		"jti 1767229200 ",
		"jti x j1",
		"sub 1767229200 u1",
		"sub 1767229200 x u1",
		"foo 1767229200 j1",
	} {
		if _, err := denylist.ParseEvent(msg); !errors.Is(err, denylist.ErrInvalidArgument) {
			t.Errorf("ParseEvent(%q) = %v, want ErrInvalidArgument", msg, err)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{"jti 1767229200 j1", "sid 1 s", "sub 2 1 u u", "sub -1 -2 x", "jti 9999999999999999999 j"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		e, err := denylist.ParseEvent(msg)
		if err != nil {
			return
		}
		again, err := denylist.ParseEvent(e.String())
		if err != nil || !sameEvent(e, again) {
			t.Fatalf("ParseEvent(%q) = %+v; re-encoded %q parses as %+v, %v", msg, e, e.String(), again, err)
		}
	})
}
