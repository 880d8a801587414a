// Package audit writes the service's events to the append-only audit trail
// (store.AuditLog) off the request path: Record only enqueues; a background
// loop writes batches. A full queue drops the event and counts it rather
// than slow logins down; the count is exported as a metric and logged.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/auth"
	"github.com/authd/authd/internal/dropqueue"
	"github.com/authd/authd/pkg/store"
)

// Defaults for a Writer.
const (
	DefaultQueueSize     = 8192
	DefaultBatchSize     = 128
	DefaultFlushInterval = 200 * time.Millisecond
)

// Writer is an auth.EventSink that persists events.
type Writer struct {
	log    store.AuditLog
	logger *slog.Logger
	now    func() time.Time
	queue  *dropqueue.Queue[store.AuditEvent]
	failed atomic.Uint64
	done   chan struct{}
}

var _ auth.EventSink = (*Writer)(nil)

// NewWriter starts a Writer; Close flushes what is queued and stops it.
func NewWriter(log store.AuditLog, logger *slog.Logger, now func() time.Time) *Writer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	w := &Writer{log: log, logger: logger, now: now, queue: dropqueue.New[store.AuditEvent](DefaultQueueSize), done: make(chan struct{})}
	go w.run()
	return w
}

// Record enqueues e without blocking.
func (w *Writer) Record(_ context.Context, e auth.Event) {
	at := e.At
	if at.IsZero() {
		at = w.now()
	}
	ev := store.AuditEvent{At: at, Type: e.Type, Outcome: e.Outcome, UserID: e.UserID, ActorID: e.ActorID, SessionID: e.SessionID,
		IP: e.IP, UserAgent: truncate(e.UserAgent, 512), Detail: truncate(e.Detail, 256)}
	if n, err := w.queue.Offer(ev); errors.Is(err, dropqueue.ErrFull) && n%1000 == 1 {
		w.logger.Warn("audit queue full: events dropped", slog.Uint64("dropped_total", n))
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (w *Writer) Dropped() uint64 { return w.queue.Dropped() }

// Failed returns how many events could not be written.
func (w *Writer) Failed() uint64 { return w.failed.Load() }

// Close stops accepting events and writes what is queued, within ctx.
func (w *Writer) Close(ctx context.Context) error {
	w.queue.Close()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]store.AuditEvent, 0, DefaultBatchSize)
	tick := time.NewTicker(DefaultFlushInterval)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-w.queue.C():
			if !ok {
				w.flush(batch)
				return
			}
			batch = append(batch, ev)
			if len(batch) == cap(batch) {
				batch = w.flush(batch)
			}
		case <-tick.C:
			batch = w.flush(batch)
		}
	}
}

// flush writes batch, retrying once, and returns it emptied.
func (w *Writer) flush(batch []store.AuditEvent) []store.AuditEvent {
	if len(batch) == 0 {
		return batch
	}
	eraseDeleted(batch)
	var err error
	for attempt := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = w.log.AppendAuditEvents(ctx, batch)
		cancel()
		if err == nil {
			break
		}
		if attempt == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err != nil {
		w.failed.Add(uint64(len(batch)))
		w.logger.Error("audit events could not be written", slog.Int("events", len(batch)), slog.Any("error", err))
	}
	return batch[:0]
}

// eraseDeleted empties the IP and user agent of the events of every user
// whose deletion the batch records, but the deletion's own (those are the
// admin's). The store erases the rows it holds when it deletes the user;
// events of that user still queued here at that moment (a login a moment
// earlier) would otherwise be written afterwards with the data the
// deletion erased. The service records the deletion after the store
// committed it, so only a flush in between escapes this.
func eraseDeleted(batch []store.AuditEvent) {
	var deleted map[string]bool
	for _, e := range batch {
		if e.Type == auth.EventUserDeleted && e.Outcome == auth.OutcomeSuccess && e.UserID != "" {
			if deleted == nil {
				deleted = map[string]bool{}
			}
			deleted[e.UserID] = true
		}
	}
	if deleted == nil {
		return
	}
	for i := range batch {
		if e := &batch[i]; deleted[e.UserID] && e.Type != auth.EventUserDeleted {
			e.IP, e.UserAgent = "", ""
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
