package denylist

import (
	"fmt"
	"strings"
)

// Layout is the Redis key layout a Redis denylist writes and reads and a
// Mirror copies; see the package doc. Every writer and reader of one
// denylist must agree on it, which is why it changes in two steps.
type Layout int

// Layouts.
const (
	// LayoutV1V2, the default, writes every entry under both layouts and
	// reads v2, then v1: a release that knows only v1 (writer or
	// verifier) and one that knows v2 can run side by side during a
	// rolling upgrade, and each refuses every token the other revoked.
	LayoutV1V2 Layout = iota
	// LayoutV2 writes and reads v2 only, each token's keys in one Redis
	// Cluster slot chosen by its subject. Switch to it once every writer
	// and verifier runs with LayoutV1V2 or LayoutV2 and one access-token
	// lifetime has passed since the last v1-only writer stopped.
	LayoutV2
)

// String returns the layout's name as AUTHD_DENYLIST_LAYOUT spells it.
func (l Layout) String() string {
	switch l {
	case LayoutV1V2:
		return "v1+v2"
	case LayoutV2:
		return "v2"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// ParseLayout returns the layout named s ("v1+v2" or "v2"), or an error
// matching ErrInvalidArgument.
func ParseLayout(s string) (Layout, error) {
	switch strings.TrimSpace(s) {
	case "v1+v2":
		return LayoutV1V2, nil
	case "v2":
		return LayoutV2, nil
	}
	return 0, fmt.Errorf("%w: key layout %q: want v1+v2 or v2", ErrInvalidArgument, s)
}

// readsV1 reports whether l writes and reads the v1 keys too.
func (l Layout) readsV1() bool { return l == LayoutV1V2 }

// WithLayout sets the key layout of a Redis or a Mirror (default
// LayoutV1V2). A value that is not one of the Layout constants keeps the
// default.
func WithLayout(l Layout) RedisMirrorOption { return layoutOption(l) }

type layoutOption Layout

func (o layoutOption) applyRedis(r *Redis) {
	if Layout(o) == LayoutV1V2 || Layout(o) == LayoutV2 {
		r.layout = Layout(o)
	}
}

func (o layoutOption) applyMirror(c *mirrorConfig) {
	if Layout(o) == LayoutV1V2 || Layout(o) == LayoutV2 {
		c.layout = Layout(o)
	}
}

// keys builds the key names of one prefix under both layouts.
type keys struct{ prefix string }

// v2 key names: <prefix>{<sub>}:jti:<jti>, <prefix>{<sub>}:sid:<sid>,
// <prefix>{<sub>}:cut. The braces make the subject the hash tag.
func (k keys) token(sub, jti string) string {
	return k.prefix + "{" + sub + "}:" + kindToken + ":" + jti
}
func (k keys) session(sub, sid string) string {
	return k.prefix + "{" + sub + "}:" + kindSession + ":" + sid
}
func (k keys) cutoff(sub string) string { return k.prefix + "{" + sub + "}:" + kindCutoff }

// v1 key names: <prefix><kind>:<id>.
func (k keys) v1(kind, id string) string { return k.prefix + kind + ":" + id }

// kindCutoff is the last part of a v2 per-user cutoff key.
const kindCutoff = "cut"

// parsedKey is one reading of a key name.
type parsedKey struct{ kind, id string } // kind is kindToken, kindSession or kindUser (id = subject)

// parse returns every entry that key may name under the layouts l reads
// (nil for a key of neither). A v2 name is ambiguous when a subject or an
// id contains "}:jti:", "}:sid:" or "}:cut": every reading is returned,
// so that a copy refuses at least what Redis refuses.
func (k keys) parse(key string, l Layout) []parsedKey {
	rest, ok := strings.CutPrefix(key, k.prefix)
	if !ok {
		return nil
	}
	var out []parsedKey
	if strings.HasPrefix(rest, "{") {
		for p := 1; p < len(rest); p++ {
			i := strings.Index(rest[p:], "}:")
			if i < 0 {
				break
			}
			p += i
			sub, after := rest[1:p], rest[p+2:]
			switch {
			case after == kindCutoff:
				out = append(out, parsedKey{kindUser, sub})
			case strings.HasPrefix(after, kindToken+":") && len(after) > len(kindToken)+1:
				out = append(out, parsedKey{kindToken, after[len(kindToken)+1:]})
			case strings.HasPrefix(after, kindSession+":") && len(after) > len(kindSession)+1:
				out = append(out, parsedKey{kindSession, after[len(kindSession)+1:]})
			}
		}
		return out // a v1 name never starts with '{': it starts with its kind
	}
	if !l.readsV1() {
		return nil
	}
	kind, id, ok := strings.Cut(rest, ":")
	if !ok || id == "" || (kind != kindToken && kind != kindSession && kind != kindUser) {
		return nil
	}
	return []parsedKey{{kind, id}}
}
