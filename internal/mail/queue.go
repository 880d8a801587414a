package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/dropqueue"
)

// Job is one message to send. Compose builds it when a worker picks the job
// up, not when it is queued, so that the work behind a message (issuing a
// token: a database write) stays off the request path too, and a request
// that sends mail costs what one that does not costs.
type Job struct {
	// Kind names the message in logs ("verify_email", ...).
	Kind string
	// Ref identifies the job in logs instead of the address, e.g. a user
	// id: addresses and message contents stay out of production logs.
	Ref string
	// Compose returns the message. It runs once; a failure is retried
	// like a failed send, unless marked Permanent. ErrSkip means there is
	// nothing to send after all (the job is counted as skipped).
	Compose func(ctx context.Context) (Message, error)
}

// ErrSkip is returned by a Job's Compose when it finds nothing to send,
// e.g. a password reset asked for an email without an account: deciding
// that in the worker keeps the lookup off the request path.
var ErrSkip = errors.New("mail: nothing to send")

// Stats counts what a Queue did since it started.
type Stats struct {
	// Queued jobs were accepted by Enqueue.
	Queued uint64
	// Sent messages were accepted by the Mailer.
	Sent uint64
	// Failed jobs were given up: a permanent error, or every attempt
	// failed.
	Failed uint64
	// Dropped jobs were refused by Enqueue (queue full or closed) or
	// abandoned unsent when Close ran out of time.
	Dropped uint64
	// Retries counts attempts after the first.
	Retries uint64
	// Skipped jobs found nothing to send (Compose returned ErrSkip).
	Skipped uint64
}

// Queue sends Jobs through a Mailer from a fixed set of workers, off the
// request path: Enqueue never blocks. Failed attempts are retried with
// exponential backoff and jitter. Create it with NewQueue and stop it with
// Close.
type Queue struct {
	mailer Mailer
	cfg    queueConfig
	jobs   *dropqueue.Queue[Job]

	// ctx is cancelled when Close gives up waiting: in-flight sends and
	// backoff sleeps end, queued jobs are dropped.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when every worker has returned

	queued, sent, failed, retries, skipped atomic.Uint64
}

// NewQueue starts the workers of a Queue sending through m.
func NewQueue(m Mailer, opts ...QueueOption) *Queue {
	cfg := defaultQueueConfig()
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{mailer: m, cfg: cfg, jobs: dropqueue.New[Job](cfg.capacity), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(q.work)
	}
	go func() { wg.Wait(); close(q.done) }()
	return q
}

// Enqueue hands j to the workers and returns at once. It returns false,
// and counts the job as dropped, when the queue is full or closed: a slow
// mail server must never hold a request.
func (q *Queue) Enqueue(j Job) bool {
	n, err := q.jobs.Offer(j)
	if err == nil {
		q.queued.Add(1)
		return true
	}
	// Logging every drop would let a flood fill the log too.
	if n == 1 || n%100 == 0 {
		q.cfg.log.LogAttrs(context.Background(), slog.LevelWarn, "mail queue full or closed: message dropped",
			slog.String("kind", j.Kind), slog.String("ref", j.Ref), slog.Uint64("dropped_total", n))
	}
	return false
}

// Close stops accepting jobs and waits until the queued ones are sent (or
// given up), or ctx is done; then it cancels what is still in flight,
// counts the remaining jobs as dropped and returns ctx's error. Calling it
// again waits for the first call's workers.
func (q *Queue) Close(ctx context.Context) error {
	q.jobs.Close()
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done // quick: every send and sleep watches q.ctx
		return fmt.Errorf("mail: queue closed before it drained: %w", ctx.Err())
	}
}

// Stats returns the counters. Each is read atomically; together they are
// a snapshot only when the queue is idle.
func (q *Queue) Stats() Stats {
	return Stats{
		Queued: q.queued.Load(), Sent: q.sent.Load(), Failed: q.failed.Load(),
		Dropped: q.jobs.Dropped(), Retries: q.retries.Load(), Skipped: q.skipped.Load(),
	}
}

func (q *Queue) work() {
	for j := range q.jobs.C() {
		if q.ctx.Err() != nil {
			q.jobs.CountDrop() // Close gave up: drain without sending
			continue
		}
		q.run(j)
	}
}

// run tries j up to the configured number of attempts.
func (q *Queue) run(j Job) {
	var (
		msg      Message
		composed bool
		err      error
		attempt  int
	)
	for attempt = 1; ; attempt++ {
		err = q.attempt(j, &msg, &composed)
		switch {
		case err == nil:
			q.sent.Add(1)
			return
		case errors.Is(err, ErrSkip):
			q.skipped.Add(1)
			return
		}
		if IsPermanent(err) || attempt >= q.cfg.attempts || !q.sleep(q.cfg.backoff(attempt)) {
			break
		}
		q.retries.Add(1)
		q.cfg.log.LogAttrs(q.ctx, slog.LevelDebug, "mail attempt failed; retrying",
			slog.String("kind", j.Kind), slog.String("ref", j.Ref), slog.Int("attempt", attempt), slog.Any("error", err))
	}
	q.failed.Add(1)
	q.cfg.log.LogAttrs(q.ctx, slog.LevelError, "mail not sent",
		slog.String("kind", j.Kind), slog.String("ref", j.Ref), slog.Int("attempts", attempt),
		slog.Bool("permanent", IsPermanent(err)), slog.Any("error", err))
}

// attempt composes the message if that has not succeeded yet, then sends
// it, within the per-attempt timeout.
func (q *Queue) attempt(j Job, msg *Message, composed *bool) error {
	ctx, cancel := context.WithTimeout(q.ctx, q.cfg.attemptTimeout)
	defer cancel()
	if !*composed {
		m, err := j.Compose(ctx)
		if err != nil {
			return fmt.Errorf("compose: %w", err)
		}
		*msg, *composed = m, true
	}
	return q.mailer.Send(ctx, *msg)
}

// sleep waits d, or returns false at once when the queue is cancelled.
func (q *Queue) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-q.ctx.Done():
		return false
	}
}

// QueueOption configures NewQueue.
type QueueOption func(*queueConfig)

type queueConfig struct {
	workers, capacity, attempts int
	attemptTimeout              time.Duration
	backoff                     func(attempt int) time.Duration
	log                         *slog.Logger
}

// Defaults of NewQueue: enough retries to ride out a mail server restart of
// about a minute (2+4+8+16+32 s between 6 attempts).
const (
	DefaultWorkers        = 4
	DefaultCapacity       = 1024
	DefaultAttempts       = 6
	DefaultAttemptTimeout = 30 * time.Second
	DefaultBackoffBase    = 2 * time.Second
	DefaultBackoffMax     = time.Minute
)

func defaultQueueConfig() queueConfig {
	return queueConfig{
		workers: DefaultWorkers, capacity: DefaultCapacity, attempts: DefaultAttempts,
		attemptTimeout: DefaultAttemptTimeout,
		backoff:        ExponentialBackoff(DefaultBackoffBase, DefaultBackoffMax),
		log:            slog.New(slog.DiscardHandler),
	}
}

// WithWorkers sets how many messages are sent at once (default 4; at
// least 1).
func WithWorkers(n int) QueueOption { return func(c *queueConfig) { c.workers = max(1, n) } }

// WithCapacity sets how many jobs may wait (default 1024); beyond it
// Enqueue drops.
func WithCapacity(n int) QueueOption { return func(c *queueConfig) { c.capacity = max(0, n) } }

// WithAttempts sets how many times a job is tried (default 6; at least 1).
func WithAttempts(n int) QueueOption { return func(c *queueConfig) { c.attempts = max(1, n) } }

// WithAttemptTimeout bounds one attempt, composing and sending (default
// 30s), so a server that stalls costs a worker that long at most.
func WithAttemptTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) {
		if d > 0 {
			c.attemptTimeout = d
		}
	}
}

// WithBackoff sets the wait after failed attempt n (1-based); default
// ExponentialBackoff(2s, 1m).
func WithBackoff(f func(attempt int) time.Duration) QueueOption {
	return func(c *queueConfig) {
		if f != nil {
			c.backoff = f
		}
	}
}

// WithLogger sets the logger for failures and drops (never message
// contents or addresses). The default discards.
func WithLogger(l *slog.Logger) QueueOption {
	return func(c *queueConfig) {
		if l != nil {
			c.log = l
		}
	}
}

// ExponentialBackoff waits base, 2·base, 4·base… capped at maxWait, each
// scaled by a random factor in [0.5, 1] so that workers that failed
// together do not retry together.
func ExponentialBackoff(base, maxWait time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < maxWait; i++ {
			d *= 2
		}
		d = min(d, maxWait)
		return d/2 + rand.N(d/2+1)
	}
}
