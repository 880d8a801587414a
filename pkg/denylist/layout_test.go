package denylist

import (
	"fmt"
	"testing"
)

func TestKeySlot(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	for _, tc := range []struct {
		key  string
		slot uint16
	}{
		{"123456789", 12739}, // CRC16 test vector 0x31C3
		{"foo", 12182},
		{"{user1000}.following", keySlot("user1000")},
		{"foo{}{bar}", keySlot("foo{}{bar}")}, // empty tag: the whole key
		{"authd:dl:{u-1}:jti:x", keySlot("u-1")},
	} {
		if got := keySlot(tc.key); got != tc.slot {
			t.Errorf("keySlot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
	}
	if keySlot("authd:dl:{u-1}:jti:x") != keySlot("authd:dl:{u-1}:cut") {
		t.Error("one subject's keys are in different slots")
	}
}

func TestParseKey(t *testing.T) {
	k := keys{prefix: "p:"}
	for _, tc := range []struct {
		key    string
		layout Layout
		want   string
	}{
		{"p:{u1}:jti:j1", LayoutV2, "[{jti j1}]"},
		{"p:{u1}:sid:s 1", LayoutV2, "[{sid s 1}]"},
		{"p:{u1}:cut", LayoutV2, "[{sub u1}]"},
		{"p:{}:jti:j1", LayoutV2, "[{jti j1}]"},
		{"p:jti:j1", LayoutV2, "[]"},
		{"p:jti:j1", LayoutV1V2, "[{jti j1}]"},
		{"p:sub:u1", LayoutV1V2, "[{sub u1}]"},
		{"p:other:x", LayoutV1V2, "[]"},
		{"q:{u1}:jti:j1", LayoutV1V2, "[]"},
		{"p:{u1}:jti:", LayoutV2, "[]"},
		// Ambiguous: every reading, so that the copy refuses at least
		// what Redis refuses.
		{"p:{a}:jti:b}:jti:c", LayoutV2, "[{jti b}:jti:c} {jti c}]"},
		{"p:{a}:sid:x}:cut", LayoutV2, "[{sid x}:cut} {sub a}:sid:x}]"},
	} {
		got := fmt.Sprint(k.parse(tc.key, tc.layout))
		if tc.want == "[]" && got == "[]" {
			continue
		}
		if got != tc.want {
			t.Errorf("parse(%q, %s) = %s, want %s", tc.key, tc.layout, got, tc.want)
		}
	}
}
