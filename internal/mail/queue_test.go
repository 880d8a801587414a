package mail_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/mail"
	"github.com/authd/authd/internal/mail/mailtest"
)

// fast retries for tests: no backoff to wait for.
func fast() mail.QueueOption {
	return mail.WithBackoff(func(int) time.Duration { return time.Millisecond })
}

func job(m mail.Message) mail.Job {
	return mail.Job{Kind: "test", Ref: "u1", Compose: func(context.Context) (mail.Message, error) { return m, nil }}
}

// closeQueue drains q, failing t if that takes over 10s.
func closeQueue(t *testing.T, q *mail.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestQueueRetries(t *testing.T) {
	tests := []struct {
		name                  string
		failures, code        int
		attempts              int
		sent, failed, retries uint64
		delivered             int
	}{
		{"temporary failures then success", 2, 451, 3, 1, 0, 2, 1},
		{"temporary failures exhaust attempts", 3, 451, 3, 0, 1, 2, 0},
		{"permanent failure is not retried", 1, 550, 3, 0, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{})
			srv.FailNext(tt.failures, tt.code)
			q := mail.NewQueue(newSMTP(t, srv.URL(), srv), fast(), mail.WithAttempts(tt.attempts))
			if !q.Enqueue(job(testMessage())) {
				t.Fatal("Enqueue refused")
			}
			closeQueue(t, q)
			st := q.Stats()
			if st.Sent != tt.sent || st.Failed != tt.failed || st.Retries != tt.retries || st.Queued != 1 {
				t.Errorf("stats %+v, want sent %d failed %d retries %d", st, tt.sent, tt.failed, tt.retries)
			}
			if srv.Count() != tt.delivered {
				t.Errorf("%d delivered, want %d", srv.Count(), tt.delivered)
			}
		})
	}
}

// Compose runs once per job, however many sends it takes; a failed compose
// is retried like a failed send.
func TestQueueComposeOnce(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.FailNext(2, 451)
	q := mail.NewQueue(newSMTP(t, srv.URL(), srv), fast(), mail.WithAttempts(5))
	var calls atomic.Int32
	q.Enqueue(mail.Job{Kind: "test", Compose: func(context.Context) (mail.Message, error) {
		if calls.Add(1) == 1 {
			return mail.Message{}, errors.New("database blinked")
		}
		return testMessage(), nil
	}})
	closeQueue(t, q)
	if calls.Load() != 2 || srv.Count() != 1 {
		t.Fatalf("compose ran %d times, %d delivered; want 2 and 1", calls.Load(), srv.Count())
	}
	if st := q.Stats(); st.Sent != 1 || st.Retries != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// blockingMailer holds every Send until release is closed or ctx is done.
type blockingMailer struct {
	started chan struct{}
	release chan struct{}
	sent    atomic.Int32
}

func newBlocking() *blockingMailer {
	return &blockingMailer{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingMailer) Send(ctx context.Context, _ mail.Message) error {
	b.started <- struct{}{}
	select {
	case <-b.release:
		b.sent.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	b := newBlocking()
	q := mail.NewQueue(b, mail.WithWorkers(1), mail.WithCapacity(1))
	q.Enqueue(job(testMessage())) // taken by the worker
	<-b.started
	if !q.Enqueue(job(testMessage())) { // waits in the channel
		t.Fatal("second job refused with room for one")
	}
	start := time.Now()
	if q.Enqueue(job(testMessage())) {
		t.Fatal("third job accepted by a full queue")
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("Enqueue on a full queue took %s: it must not block", d)
	}
	if st := q.Stats(); st.Dropped != 1 || st.Queued != 2 {
		t.Fatalf("stats %+v, want 1 dropped, 2 queued", st)
	}
	close(b.release)
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 2 || b.sent.Load() != 2 {
		t.Fatalf("stats %+v after drain, want 2 sent", st)
	}
	if q.Enqueue(job(testMessage())) {
		t.Fatal("Enqueue accepted a job after Close")
	}
	if st := q.Stats(); st.Dropped != 2 {
		t.Fatalf("a job refused after Close counts as dropped: %+v", st)
	}
}

func TestQueueCloseDrains(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	q := mail.NewQueue(newSMTP(t, srv.URL(), srv), mail.WithWorkers(2))
	const n = 50
	for range n {
		if !q.Enqueue(job(testMessage())) {
			t.Fatal("Enqueue refused")
		}
	}
	closeQueue(t, q)
	if srv.Count() != n || q.Stats().Sent != n {
		t.Fatalf("%d delivered, stats %+v; want all %d before Close returns", srv.Count(), q.Stats(), n)
	}
}

// When Close runs out of time it cancels the sends in flight and drops
// what is still queued, and says so.
func TestQueueCloseTimeout(t *testing.T) {
	b := newBlocking()
	q := mail.NewQueue(b, mail.WithWorkers(1), mail.WithAttempts(1))
	for range 3 {
		q.Enqueue(job(testMessage()))
	}
	<-b.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := q.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %s", d)
	}
	if st := q.Stats(); st.Failed != 1 || st.Dropped != 2 || st.Sent != 0 {
		t.Fatalf("stats %+v, want 1 failed (in flight), 2 dropped", st)
	}
	// A second Close returns at once.
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	f := mail.ExponentialBackoff(time.Second, 10*time.Second)
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 10 * time.Second, 1000: 10 * time.Second} {
		for range 50 {
			if d := f(attempt); d < max/2 || d > max {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, max/2, max)
			}
		}
	}
}

// BenchmarkQueueThroughput sends real mail over loopback SMTP (one
// connection per message, as the Mailer does) through 4 workers.
func BenchmarkQueueThroughput(b *testing.B) {
	srv := mailtest.Start(b, mailtest.Options{})
	m, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "a@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	q := mail.NewQueue(m, mail.WithCapacity(b.N+1))
	msg := testMessage()
	start := time.Now()
	for range b.N {
		q.Enqueue(job(msg))
	}
	if err := q.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if q.Stats().Sent != uint64(b.N) {
		b.Fatalf("stats %+v", q.Stats())
	}
}
