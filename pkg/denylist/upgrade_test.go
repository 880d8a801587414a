package denylist_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
)

// TestRollingUpgrade walks the documented upgrade from layout v1: a
// release that knows only v1 (its writes are plain SETs of v1 keys here,
// its reads an MGET of them), then LayoutV1V2, then LayoutV2. At every
// step every reader still in service refuses every token revoked by every
// writer still in service.
func TestRollingUpgrade(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := t.Context()
	until := time.Now().Add(time.Hour)
	iat := time.Now().Add(-time.Minute)
	both := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV1V2))
	v2 := denylist.NewRedis(client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(denylist.LayoutV2))

	// The old release's writes and reads, as the v1 contract describes them.
	oldWrite := func(jti, sid, sub string) {
		t.Helper()
		cutoff := strconv.FormatInt(time.Now().Unix(), 10)
		for k, v := range map[string]string{prefix + "jti:" + jti: "1", prefix + "sid:" + sid: "1", prefix + "sub:" + sub: cutoff} {
			if err := client.Set(ctx, k, v, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	oldRevoked := func(tok denylist.Token) bool {
		t.Helper()
		vals, err := client.MGet(ctx, prefix+"jti:"+tok.JTI, prefix+"sid:"+tok.SID, prefix+"sub:"+tok.Subject).Result()
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] != nil || vals[1] != nil {
			return true
		}
		if s, ok := vals[2].(string); ok {
			c, _ := strconv.ParseInt(s, 10, 64)
			return tok.IssuedAt.Unix() < c
		}
		return false
	}
	newWrite := func(dl *denylist.Redis, jti, sid, sub string) {
		t.Helper()
		if err := errors.Join(dl.RevokeToken(ctx, sub, jti, until), dl.RevokeSessions(ctx, sub, []string{sid}, until),
			dl.RevokeUserBefore(ctx, sub, time.Now(), until)); err != nil {
			t.Fatal(err)
		}
	}
	// Three tokens of each writer, each revoked by one kind of entry only
	// as far as the check can tell (the other fields are fresh).
	tokens := func(jti, sid, sub string) []denylist.Token {
		return []denylist.Token{
			{JTI: jti, SID: "fresh-sid", Subject: sub + "-other", IssuedAt: iat},
			{JTI: "fresh-jti", SID: sid, Subject: sub + "-other", IssuedAt: iat},
			{JTI: "fresh-jti", SID: "fresh-sid", Subject: sub, IssuedAt: iat},
		}
	}
	// A token and session belong to their subject: v2 keys them under
	// it, so the first two tokens carry the writer's subject for v2.
	withSub := func(toks []denylist.Token, sub string) []denylist.Token {
		out := append([]denylist.Token(nil), toks...)
		out[0].Subject, out[1].Subject = sub, sub
		out[0].IssuedAt, out[1].IssuedAt = time.Now().Add(time.Minute), time.Now().Add(time.Minute) // past the cutoff
		return out
	}

	oldWrite("j-old", "s-old", "u-old")
	newWrite(both, "j-both", "s-both", "u-both")
	newWrite(v2, "j-v2", "s-v2", "u-v2")

	for _, tc := range []struct {
		name   string
		writer string
		toks   []denylist.Token
		old    bool // the v1-only release refuses them
		both   bool // LayoutV1V2 refuses them
		v2     bool // LayoutV2 refuses them
	}{
		// Step 1, old writers beside v1+v2 ones: old and v1+v2 readers
		// refuse both writers' tokens.
		{"old writer", "old", tokens("j-old", "s-old", "u-old"), true, true, false},
		{"v1+v2 writer", "both", withSub(tokens("j-both", "s-both", "u-both"), "u-both"), true, true, true},
		// Step 2, once no old writer is left and one access TTL has
		// passed: v2 readers refuse what v1+v2 and v2 writers revoked.
		{"v2 writer", "v2", withSub(tokens("j-v2", "s-v2", "u-v2"), "u-v2"), false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, tok := range tc.toks {
				if got := oldRevoked(tok); got != tc.old {
					t.Errorf("token %d: the v1-only reader refuses = %v, want %v", i, got, tc.old)
				}
				for _, r := range []struct {
					name string
					dl   *denylist.Redis
					want bool
				}{{"v1+v2", both, tc.both}, {"v2", v2, tc.v2}} {
					err := r.dl.Check(ctx, tok)
					if got := errors.Is(err, denylist.ErrRevoked); got != r.want || (err != nil && !got) {
						t.Errorf("token %d: %s reader Check = %v, want revoked %v", i, r.name, err, r.want)
					}
				}
			}
		})
	}
	// The mirror reads the same layouts.
	for _, tc := range []struct {
		layout denylist.Layout
		oldTok bool
	}{{denylist.LayoutV1V2, true}, {denylist.LayoutV2, false}} {
		m := newMirror(t, client, denylist.WithKeyPrefix(prefix), denylist.WithLayout(tc.layout))
		catchUp(t, m)
		want := error(nil)
		if tc.oldTok {
			want = denylist.ErrRevoked
		}
		expect(t, m, denylist.Token{JTI: "j-old", Subject: "x", IssuedAt: iat}, want)
		expect(t, m, denylist.Token{JTI: "j-both", Subject: "u-both", IssuedAt: iat}, denylist.ErrRevoked)
		expect(t, m, denylist.Token{JTI: "j-v2", Subject: "u-v2", IssuedAt: iat}, denylist.ErrRevoked)
	}
}
