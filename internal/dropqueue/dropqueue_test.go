package dropqueue_test

import (
	"errors"
	"testing"

	"github.com/authd/authd/internal/dropqueue"
)

func TestOffer(t *testing.T) {
	tests := []struct {
		name        string
		capacity    int
		offers      int
		closeBefore bool
		wantErr     error // of the last offer
		wantDropped uint64
		wantQueued  int
	}{
		{name: "room", capacity: 2, offers: 2, wantQueued: 2},
		{name: "full", capacity: 2, offers: 4, wantErr: dropqueue.ErrFull, wantDropped: 2, wantQueued: 2},
		{name: "no capacity", capacity: 0, offers: 1, wantErr: dropqueue.ErrFull, wantDropped: 1},
		{name: "closed", capacity: 2, offers: 1, closeBefore: true, wantErr: dropqueue.ErrClosed, wantDropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := dropqueue.New[int](tt.capacity)
			if tt.closeBefore {
				q.Close()
			}
			var (
				n   uint64
				err error
			)
			for i := range tt.offers {
				n, err = q.Offer(i)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("last Offer error = %v, want %v", err, tt.wantErr)
			}
			if n != tt.wantDropped || q.Dropped() != tt.wantDropped {
				t.Fatalf("dropped = %d (returned %d), want %d", q.Dropped(), n, tt.wantDropped)
			}
			q.Close()
			q.Close() // a second Close must not panic
			got := 0
			for range q.C() {
				got++
			}
			if got != tt.wantQueued {
				t.Fatalf("received %d, want %d", got, tt.wantQueued)
			}
			q.CountDrop()
			if q.Dropped() != tt.wantDropped+1 {
				t.Fatalf("CountDrop: dropped = %d, want %d", q.Dropped(), tt.wantDropped+1)
			}
		})
	}
}
