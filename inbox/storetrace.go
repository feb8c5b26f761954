package inbox

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/telemetry"
)

// tracedStore is the Store an Inbox calls: it gives every call of the
// host's store (memstore, pgstore, its own) a span "store.{Method}", so
// that every store is traced the same way. A call gets a span only inside
// a recording span (an inbox operation's, or the host's own, an HTTP
// request's say): a store call with no trace around it would be a root
// span of its own, noise in every trace view, and without an SDK the check
// costs a context lookup and nothing else.
//
// Store methods added later as optional interfaces are to be asserted on
// the host's store (tracedStore.next), not on the tracedStore.
type tracedStore struct {
	next   Store
	tracer trace.Tracer
}

var _ Store = (*tracedStore)(nil)

// traced reports whether a store call on ctx gets a span: whether ctx
// holds a recording span. Each method checks it first, so that the
// untraced path builds no attributes.
func traced(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// start starts the span of method.
func (s *tracedStore) start(ctx context.Context, method string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := s.tracer.Start(ctx, "store."+method)
	if span.IsRecording() {
		span.SetAttributes(semconv.DBOperationNameKey.String(method))
		span.SetAttributes(attrs...)
	}
	return ctx, span
}

// end ends span. ErrNotFound is an answer, not a failure: it
// leaves the span's status unset, and says so in parley.found.
func end(span trace.Span, err error, attrs ...attribute.KeyValue) {
	if span.IsRecording() {
		span.SetAttributes(attrs...)
		if errors.Is(err, store.ErrNotFound) {
			span.SetAttributes(attribute.Bool("parley.found", false))
		} else {
			fail(span, err)
		}
	}
	span.End()
}

func count(n int) attribute.KeyValue { return telemetry.CountKey.Int(n) }

func (s *tracedStore) Thread(ctx context.Context, id string) (Thread, error) {
	if !traced(ctx) {
		return s.next.Thread(ctx, id)
	}
	ctx, span := s.start(ctx, "Thread", telemetry.ThreadIDKey.String(id))
	t, err := s.next.Thread(ctx, id)
	end(span, err)
	return t, err
}

func (s *tracedStore) LiveThread(ctx context.Context, sub Subject) (Thread, error) {
	if !traced(ctx) {
		return s.next.LiveThread(ctx, sub)
	}
	ctx, span := s.start(ctx, "LiveThread", attribute.String("parley.subject.kind", sub.Kind.String()))
	t, err := s.next.LiveThread(ctx, sub)
	end(span, err, telemetry.ThreadIDKey.String(t.ID))
	return t, err
}

func (s *tracedStore) Threads(ctx context.Context, q store.ThreadQuery) ([]Thread, error) {
	if !traced(ctx) {
		return s.next.Threads(ctx, q)
	}
	ctx, span := s.start(ctx, "Threads")
	ts, err := s.next.Threads(ctx, q)
	end(span, err, count(len(ts)))
	return ts, err
}

func (s *tracedStore) Counters(ctx context.Context, now time.Time) (Counters, error) {
	if !traced(ctx) {
		return s.next.Counters(ctx, now)
	}
	ctx, span := s.start(ctx, "Counters")
	c, err := s.next.Counters(ctx, now)
	end(span, err)
	return c, err
}

func (s *tracedStore) Message(ctx context.Context, id string) (Message, error) {
	if !traced(ctx) {
		return s.next.Message(ctx, id)
	}
	ctx, span := s.start(ctx, "Message", telemetry.MessageIDKey.String(id))
	m, err := s.next.Message(ctx, id)
	end(span, err)
	return m, err
}

func (s *tracedStore) MessageByProviderID(ctx context.Context, providerID string) (Message, error) {
	if !traced(ctx) {
		return s.next.MessageByProviderID(ctx, providerID)
	}
	ctx, span := s.start(ctx, "MessageByProviderID", telemetry.ProviderIDKey.String(providerID))
	m, err := s.next.MessageByProviderID(ctx, providerID)
	end(span, err, telemetry.MessageIDKey.String(m.ID))
	return m, err
}

func (s *tracedStore) Messages(ctx context.Context, q store.MessageQuery) ([]Message, error) {
	if !traced(ctx) {
		return s.next.Messages(ctx, q)
	}
	ctx, span := s.start(ctx, "Messages", telemetry.ThreadIDKey.String(q.ThreadID))
	ms, err := s.next.Messages(ctx, q)
	end(span, err, count(len(ms)))
	return ms, err
}

func (s *tracedStore) Assignments(ctx context.Context, threadID string) ([]Assignment, error) {
	if !traced(ctx) {
		return s.next.Assignments(ctx, threadID)
	}
	ctx, span := s.start(ctx, "Assignments", telemetry.ThreadIDKey.String(threadID))
	as, err := s.next.Assignments(ctx, threadID)
	end(span, err, count(len(as)))
	return as, err
}

func (s *tracedStore) Delivery(ctx context.Context, id string) (Delivery, error) {
	if !traced(ctx) {
		return s.next.Delivery(ctx, id)
	}
	ctx, span := s.start(ctx, "Delivery", telemetry.DeliveryIDKey.String(id))
	d, err := s.next.Delivery(ctx, id)
	end(span, err)
	return d, err
}

func (s *tracedStore) DeliveryByProviderID(ctx context.Context, providerID string) (Delivery, error) {
	if !traced(ctx) {
		return s.next.DeliveryByProviderID(ctx, providerID)
	}
	ctx, span := s.start(ctx, "DeliveryByProviderID", telemetry.ProviderIDKey.String(providerID))
	d, err := s.next.DeliveryByProviderID(ctx, providerID)
	end(span, err, telemetry.DeliveryIDKey.String(d.ID))
	return d, err
}

func (s *tracedStore) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]Delivery, error) {
	if !traced(ctx) {
		return s.next.Deliveries(ctx, q)
	}
	ctx, span := s.start(ctx, "Deliveries", telemetry.MessageIDKey.String(q.MessageID))
	ds, err := s.next.Deliveries(ctx, q)
	end(span, err, count(len(ds)))
	return ds, err
}

func (s *tracedStore) Sent(ctx context.Context, q store.SentQuery) ([]Delivery, error) {
	if !traced(ctx) {
		return s.next.Sent(ctx, q)
	}
	ctx, span := s.start(ctx, "Sent")
	ds, err := s.next.Sent(ctx, q)
	end(span, err, count(len(ds)))
	return ds, err
}

func (s *tracedStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if !traced(ctx) {
		return s.next.WriteThread(ctx, w)
	}
	ctx, span := s.start(ctx, "WriteThread", telemetry.ThreadIDKey.String(w.Thread.ID))
	err := s.next.WriteThread(ctx, w)
	attrs := []attribute.KeyValue{attribute.Int64("parley.version", w.Thread.Version)}
	if w.Message != nil {
		attrs = append(attrs, telemetry.MessageIDKey.String(w.Message.ID))
	}
	if len(w.Deliveries) > 0 {
		attrs = append(attrs, count(len(w.Deliveries)))
	}
	end(span, err, attrs...)
	return err
}

func (s *tracedStore) WriteDelivery(ctx context.Context, d Delivery, events ...store.FeedEvent) error {
	if !traced(ctx) {
		return s.next.WriteDelivery(ctx, d, events...)
	}
	ctx, span := s.start(ctx, "WriteDelivery", telemetry.DeliveryIDKey.String(d.ID))
	err := s.next.WriteDelivery(ctx, d, events...)
	end(span, err, attribute.Int64("parley.version", d.Version), telemetry.Status(d.Status.Current))
	return err
}

func (s *tracedStore) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]Delivery, error) {
	if !traced(ctx) {
		return s.next.ClaimDue(ctx, now, until, limit)
	}
	ctx, span := s.start(ctx, "ClaimDue")
	ds, err := s.next.ClaimDue(ctx, now, until, limit)
	end(span, err, count(len(ds)))
	return ds, err
}

func (s *tracedStore) Scheduled(ctx context.Context, anchor string) ([]Delivery, error) {
	if !traced(ctx) {
		return s.next.Scheduled(ctx, anchor)
	}
	ctx, span := s.start(ctx, "Scheduled")
	ds, err := s.next.Scheduled(ctx, anchor)
	end(span, err, count(len(ds)))
	return ds, err
}

func (s *tracedStore) SetOptOut(ctx context.Context, kind channel.Kind, address string, optedOut bool, events ...store.FeedEvent) error {
	if !traced(ctx) {
		return s.next.SetOptOut(ctx, kind, address, optedOut, events...)
	}
	ctx, span := s.start(ctx, "SetOptOut", telemetry.Channel(kind))
	err := s.next.SetOptOut(ctx, kind, address, optedOut, events...)
	end(span, err)
	return err
}

func (s *tracedStore) OptedOut(ctx context.Context, kind channel.Kind, addresses []string) (map[string]bool, error) {
	if !traced(ctx) {
		return s.next.OptedOut(ctx, kind, addresses)
	}
	ctx, span := s.start(ctx, "OptedOut", telemetry.Channel(kind))
	m, err := s.next.OptedOut(ctx, kind, addresses)
	end(span, err, count(len(addresses)))
	return m, err
}

func (s *tracedStore) AppendEvents(ctx context.Context, events ...store.FeedEvent) error {
	if !traced(ctx) {
		return s.next.AppendEvents(ctx, events...)
	}
	ctx, span := s.start(ctx, "AppendEvents", count(len(events)))
	err := s.next.AppendEvents(ctx, events...)
	end(span, err)
	return err
}

func (s *tracedStore) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.FeedEvent, error) {
	if !traced(ctx) {
		return s.next.ReadEvents(ctx, after, limit)
	}
	ctx, span := s.start(ctx, "ReadEvents")
	evs, err := s.next.ReadEvents(ctx, after, limit)
	end(span, err, count(len(evs)))
	return evs, err
}

func (s *tracedStore) LastEventSeq(ctx context.Context) (uint64, error) {
	if !traced(ctx) {
		return s.next.LastEventSeq(ctx)
	}
	ctx, span := s.start(ctx, "LastEventSeq")
	seq, err := s.next.LastEventSeq(ctx)
	end(span, err)
	return seq, err
}

func (s *tracedStore) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	if !traced(ctx) {
		return s.next.PruneEvents(ctx, before)
	}
	ctx, span := s.start(ctx, "PruneEvents")
	n, err := s.next.PruneEvents(ctx, before)
	end(span, err, count(n))
	return n, err
}

// Watch runs as long as its context: a span would last as long, so it has
// none.
func (s *tracedStore) Watch(ctx context.Context, fn func(store.Notice)) error {
	return s.next.Watch(ctx, fn)
}

func (s *tracedStore) PublishEphemeral(ctx context.Context, data []byte) error {
	if !traced(ctx) {
		return s.next.PublishEphemeral(ctx, data)
	}
	ctx, span := s.start(ctx, "PublishEphemeral")
	err := s.next.PublishEphemeral(ctx, data)
	end(span, err)
	return err
}

func (s *tracedStore) ReserveSends(ctx context.Context, key string, perSecond float64, burst, n int) (time.Duration, error) {
	if !traced(ctx) {
		return s.next.ReserveSends(ctx, key, perSecond, burst, n)
	}
	ctx, span := s.start(ctx, "ReserveSends", count(n))
	wait, err := s.next.ReserveSends(ctx, key, perSecond, burst, n)
	end(span, err)
	return wait, err
}
