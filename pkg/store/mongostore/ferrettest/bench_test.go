package ferrettest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// BenchmarkRefresh measures RotateRefresh (one refresh: claim, conditional
// update, owner read) in the same run against two bounds, and reports
// refresh/s, each bound's rate and the ratios:
//   - bare: one findOneAndUpdate of a session document on refresh_jti, the
//     engine's bare rotation step where it isolates a conditional update
//     (MongoDB);
//   - atomic: the unique insert that orders concurrent callers, then that
//     findOneAndUpdate: the least a rotation that stays single-use takes on
//     an engine that does not isolate the update (FerretDB v1).
//
// Sequential: one caller, one connection in use at a time.
func BenchmarkRefresh(b *testing.B) {
	s := openFresh(b)
	ctx := context.Background()
	base := time.Now().UTC()
	u, err := s.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", PasswordHash: "h"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, store.NewSession{ID: "s1", UserID: u.ID, RefreshJTI: "j0",
		RefreshIssuedAt: base, ExpiresAt: base.Add(24 * time.Hour)}); err != nil {
		b.Fatal(err)
	}
	bare := rawClient(b).Database(s.DatabaseName()).Collection("bench_bare")
	if _, err := bare.InsertOne(ctx, bson.D{{Key: "_id", Value: "s1"}, {Key: "refresh_jti", Value: "j0"}}); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		now := base.Add(time.Duration(i+1) * time.Millisecond)
		_, err := s.RotateRefresh(ctx, store.Rotation{SessionID: "s1", PresentedJTI: fmt.Sprintf("j%d", i),
			NewJTI: fmt.Sprintf("j%d", i+1), NewIssuedAt: now, NewExpiresAt: now.Add(24 * time.Hour), Now: now})
		if err != nil {
			b.Fatal(err)
		}
	}
	refresh := time.Since(start)
	start = time.Now()
	for i := range b.N {
		err := bare.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "s1"}, {Key: "refresh_jti", Value: fmt.Sprintf("j%d", i)}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "refresh_jti", Value: fmt.Sprintf("j%d", i+1)}, {Key: "prev_refresh_jti", Value: fmt.Sprintf("j%d", i)}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Err()
		if err != nil {
			b.Fatal(err)
		}
	}
	bareDur := time.Since(start)
	claims := rawClient(b).Database(s.DatabaseName()).Collection("bench_claims")
	start = time.Now()
	for i := range b.N {
		if _, err := claims.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("s2:j%d", i)}}); err != nil {
			b.Fatal(err)
		}
		err := bare.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "s1"}, {Key: "refresh_jti", Value: fmt.Sprintf("j%d", b.N+i)}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "refresh_jti", Value: fmt.Sprintf("j%d", b.N+i+1)}, {Key: "prev_refresh_jti", Value: fmt.Sprintf("j%d", b.N+i)}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Err()
		if err != nil {
			b.Fatal(err)
		}
	}
	atomicDur := time.Since(start)
	b.StopTimer()
	rps, bps, aps := float64(b.N)/refresh.Seconds(), float64(b.N)/bareDur.Seconds(), float64(b.N)/atomicDur.Seconds()
	b.ReportMetric(rps, "refresh/s")
	b.ReportMetric(bps, "bare/s")
	b.ReportMetric(rps/bps, "ratio")
	b.ReportMetric(aps, "atomic/s")
	b.ReportMetric(rps/aps, "ratio-atomic")
}
