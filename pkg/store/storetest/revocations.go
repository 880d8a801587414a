package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/pkg/store"
)

// liveRevocations pages through every live revocation at now.
func liveRevocations(t *testing.T, s Store, now time.Time, page int) []store.Revocation {
	t.Helper()
	var all []store.Revocation
	var after int64
	for {
		got, err := s.LiveRevocations(ctxT(t), after, now, page)
		if err != nil {
			t.Fatalf("LiveRevocations(after %d): %v", after, err)
		}
		all = append(all, got...)
		if len(got) < page {
			return all
		}
		after = got[len(got)-1].ID
	}
}

func testRevocationsRecordAndList(t *testing.T, s Store) {
	ctx := ctxT(t)
	now := base()
	if gen, err := s.RevocationGeneration(ctx); err != nil || gen != 0 {
		t.Fatalf("RevocationGeneration of an empty store = %d, %v; want 0", gen, err)
	}
	in := []store.Revocation{
		{Kind: store.RevocationToken, Subject: "u1", Value: "jti-1", Until: now.Add(time.Minute)},
		{Kind: store.RevocationSession, Subject: "u1", Value: "sid-1", Until: now.Add(time.Hour)},
		{Kind: store.RevocationCutoff, Subject: "u2", Cutoff: now.Add(-time.Second), Until: now.Add(2 * time.Hour)},
		{Kind: store.RevocationSession, Subject: "u3", Value: "sid-old", Until: now.Add(-time.Second)},
	}
	out, err := s.RecordRevocations(ctx, in)
	if err != nil {
		t.Fatalf("RecordRevocations: %v", err)
	}
	for i := 1; i < len(out); i++ {
		if out[i].ID <= out[i-1].ID {
			t.Fatalf("ids not increasing in order: %d then %d", out[i-1].ID, out[i].ID)
		}
	}
	gen, err := s.RevocationGeneration(ctx)
	if err != nil || gen != out[len(out)-1].ID {
		t.Fatalf("RevocationGeneration = %d, %v; want %d", gen, err, out[len(out)-1].ID)
	}
	for _, page := range []int{1, 2, 100} {
		got := liveRevocations(t, s, now, page)
		if len(got) != 3 {
			t.Fatalf("page %d: %d live revocations, want 3 (the expired one left out): %+v", page, len(got), got)
		}
		for i, r := range got {
			w := out[i]
			if r.ID != w.ID || r.Kind != w.Kind || r.Subject != w.Subject || r.Value != w.Value ||
				!r.Until.Equal(w.Until) || !r.Cutoff.Equal(w.Cutoff) || !r.Until.Equal(in[i].Until) {
				t.Errorf("page %d: revocation %d = %+v, want %+v", page, i, r, w)
			}
		}
	}
	if got := liveRevocations(t, s, now.Add(90*time.Minute), 10); len(got) != 1 || got[0].Kind != store.RevocationCutoff {
		t.Errorf("live 90 minutes later = %+v, want only the cutoff", got)
	}
}

func testRevocationsInvalid(t *testing.T, s Store) {
	ctx := ctxT(t)
	until := base().Add(time.Hour)
	for _, c := range []struct {
		name string
		r    store.Revocation
	}{
		{"unknown kind", store.Revocation{Kind: "other", Subject: "u", Value: "v", Until: until}},
		{"token without jti", store.Revocation{Kind: store.RevocationToken, Subject: "u", Until: until}},
		{"session without sid", store.Revocation{Kind: store.RevocationSession, Subject: "u", Until: until}},
		{"cutoff without subject", store.Revocation{Kind: store.RevocationCutoff, Cutoff: base(), Until: until}},
		{"cutoff without time", store.Revocation{Kind: store.RevocationCutoff, Subject: "u", Until: until}},
		{"no until", store.Revocation{Kind: store.RevocationToken, Subject: "u", Value: "v"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.RecordRevocations(ctx, []store.Revocation{c.r}); err == nil {
				t.Fatal("RecordRevocations accepted it")
			}
		})
	}
	for _, limit := range []int{0, -1, store.MaxRevocationPage + 1} {
		if _, err := s.LiveRevocations(ctx, 0, base(), limit); err == nil {
			t.Errorf("LiveRevocations accepted limit %d", limit)
		}
		if _, err := s.PurgeRevocations(ctx, base(), limit); err == nil {
			t.Errorf("PurgeRevocations accepted limit %d", limit)
		}
	}
	if gen, err := s.RevocationGeneration(ctx); err != nil || gen != 0 {
		t.Errorf("RevocationGeneration after refused writes = %d, %v; want 0", gen, err)
	}
}

func testRevocationsPurge(t *testing.T, s Store) {
	ctx := ctxT(t)
	now := base()
	var in []store.Revocation
	for i := range 7 {
		in = append(in, store.Revocation{Kind: store.RevocationToken, Subject: "u", Value: "old-" + string(rune('a'+i)), Until: now.Add(-time.Minute)})
	}
	in = append(in, store.Revocation{Kind: store.RevocationToken, Subject: "u", Value: "live", Until: now.Add(time.Minute)},
		store.Revocation{Kind: store.RevocationToken, Subject: "u", Value: "last-expired", Until: now.Add(-time.Minute)})
	out, err := s.RecordRevocations(ctx, in)
	if err != nil {
		t.Fatalf("RecordRevocations: %v", err)
	}
	gen := out[len(out)-1].ID
	total := 0
	for range 10 {
		n, err := s.PurgeRevocations(ctx, now, 3)
		if err != nil {
			t.Fatalf("PurgeRevocations: %v", err)
		}
		if n > 3 {
			t.Fatalf("PurgeRevocations(limit 3) deleted %d", n)
		}
		total += n
		if n == 0 {
			break
		}
	}
	// Seven expired below the newest, plus perhaps the newest itself on a
	// backend whose generation is a counter: never the live one.
	if total < 7 || total > 8 {
		t.Errorf("purged %d in all, want 7 or 8", total)
	}
	if got := liveRevocations(t, s, now, 10); len(got) != 1 || got[0].Value != "live" {
		t.Errorf("live after purge = %+v, want the live one", got)
	}
	if g, err := s.RevocationGeneration(ctx); err != nil || g != gen {
		t.Errorf("RevocationGeneration after purge = %d, %v; want %d (never lower)", g, err, gen)
	}
	next, err := s.RecordRevocations(ctx, []store.Revocation{{Kind: store.RevocationToken, Subject: "u", Value: "next", Until: now.Add(time.Minute)}})
	if err != nil || next[0].ID <= gen {
		t.Errorf("RecordRevocations after purge: id %v, %v; want above %d", next, err, gen)
	}
}

func testRevocationsConcurrentIDs(t *testing.T, s Store) {
	ctx := ctxT(t)
	const writers, each = 8, 10
	until := base().Add(time.Hour)
	var mu sync.Mutex
	seen := make(map[int64]bool)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				out, err := s.RecordRevocations(ctx, []store.Revocation{
					{Kind: store.RevocationSession, Subject: "u", Value: string(rune('a'+w)) + string(rune('a'+i)), Until: until},
					{Kind: store.RevocationCutoff, Subject: "u", Cutoff: base(), Until: until},
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, r := range out {
					if seen[r.ID] {
						t.Errorf("id %d allocated twice", r.ID)
					}
					seen[r.ID] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("RecordRevocations: %v", err)
	}
	var maxID int64
	for id := range seen {
		maxID = max(maxID, id)
	}
	if gen, err := s.RevocationGeneration(ctx); err != nil || gen < maxID {
		t.Errorf("RevocationGeneration = %d, %v; want at least the highest id %d", gen, err, maxID)
	}
	if got := liveRevocations(t, s, base(), 7); len(got) != 2*writers*each {
		t.Errorf("%d live revocations, want %d", len(got), 2*writers*each)
	}
}
