package revocation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/revocation"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/pkg/denylist"
	"github.com/authd/authd/pkg/store"
)

// BenchmarkRebuild100k: one rebuild of 100,000 live session revocations
// from SQLite into a Redis of the benchmark's own (flushed before each
// rebuild). Figures: docs/benchmarks.md.
func BenchmarkRebuild100k(b *testing.B) {
	const n = 100_000
	client := testenv.RedisServer(b).Client(b)
	st := openStoreTB(b)
	ctx := b.Context()
	until := time.Now().Add(time.Hour)
	batch := make([]store.Revocation, 0, 1000)
	for i := range n {
		batch = append(batch, store.Revocation{Kind: store.RevocationSession, Subject: fmt.Sprintf("u%d", i%10000), Value: fmt.Sprintf("s%d", i), Until: until})
		if len(batch) == cap(batch) {
			if _, err := st.RecordRevocations(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	rd := denylist.NewRedis(client, denylist.WithLayout(denylist.LayoutV2))
	rec := revocation.New(revocation.Config{Store: st, Denylist: rd, Marker: rd, Restorer: rd})
	for b.Loop() {
		b.StopTimer()
		if err := client.FlushDB(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stats, err := rec.Rebuild(ctx)
		if err != nil || stats.Entries != n {
			b.Fatalf("Rebuild = %+v, %v", stats, err)
		}
	}
	if got := client.DBSize(ctx).Val(); got < n {
		b.Fatalf("%d keys after the rebuild, want at least %d", got, n)
	}
}
