package inbox

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/status"
)

// scope is the instrumentation scope of the inbox's spans and metrics.
const scope = "github.com/parleyhq/parley/inbox"

// The inbox's metrics (see the package doc's Observability).
const (
	deliveriesMetric   = "parley.deliveries"
	sendDurationMetric = "parley.send.duration"
	retriesMetric      = "parley.send.retries"
	dispatchLagMetric  = "parley.dispatch.lag"
	eventsMissedMetric = "parley.events.missed"
	resyncsMetric      = "parley.events.resyncs"
)

// observer holds an Inbox's tracer and instruments. Every method does
// nothing measurable when no SDK is installed: spans are the API's
// non-recording ones, attributes are set only on recording spans, and
// measurements are taken only when their instrument is enabled, with
// attribute sets built once. A nil *observer is an uninstrumented inbox's
// (the benchmarks' baseline, see export_test.go): its methods do nothing
// and return a no-op span.
type observer struct {
	tracer     trace.Tracer
	deliveries metric.Int64Counter
	sendDur    metric.Float64Histogram
	retries    metric.Int64Counter
	lag        metric.Float64Histogram
	missed     metric.Int64Counter
	resyncs    metric.Int64Counter

	byStatus telemetry.Set[kindStatus]
	byError  telemetry.Set[kindError]
	byKind   telemetry.Set[channel.Kind]

	kinds map[channel.Kind]*kindSpans // of channel.Kinds(), read-only
	// the start options of producer and consumer spans, built once: an
	// option boxed and a variadic slice made per span would allocate
	producer, consumer []trace.SpanStartOption
}

// kindSpans are the names and fixed attributes of a channel kind's spans,
// built once so that starting a span allocates no name and no attribute
// slice.
type kindSpans struct {
	send, deliver, receive, status                     string
	sendAttrs, deliverAttrs, receiveAttrs, statusAttrs []attribute.KeyValue
}

func newKindSpans(k channel.Kind) *kindSpans {
	return &kindSpans{
		send: "send " + k.String(), deliver: "deliver " + k.String(), receive: "receive " + k.String(), status: "status " + k.String(),
		sendAttrs:    messaging("send", semconv.MessagingOperationTypeSend, k),
		deliverAttrs: messaging("deliver", semconv.MessagingOperationTypeSend, k),
		receiveAttrs: messaging("receive", semconv.MessagingOperationTypeProcess, k),
		statusAttrs:  messaging("status", semconv.MessagingOperationTypeProcess, k),
	}
}

// spans returns the names and attributes of kind's spans.
func (o *observer) spans(k channel.Kind) *kindSpans {
	if ks, ok := o.kinds[k]; ok {
		return ks
	}
	return newKindSpans(k)
}

// off is the span of an operation an uninstrumented inbox (a nil observer)
// or an unrecorded delivery runs in.
var off trace.Span = noop.Span{}

type kindStatus struct {
	kind   channel.Kind
	status status.Status
	err    string
}

type kindError struct {
	kind channel.Kind
	err  string
}

func newObserver(tp trace.TracerProvider, mp metric.MeterProvider) *observer {
	m := telemetry.Meter(mp, scope)
	kinds := map[channel.Kind]*kindSpans{}
	for _, k := range channel.Kinds() {
		kinds[k] = newKindSpans(k)
	}
	return &observer{
		kinds:    kinds,
		producer: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)},
		consumer: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)},
		tracer:   telemetry.Tracer(tp, scope),
		deliveries: telemetry.Counter(m, deliveriesMetric, "{delivery}",
			"Deliveries that entered a status (S1), by channel kind and status: each delivery counts once per status its current status rises to (S2)."),
		sendDur: telemetry.Histogram(m, sendDurationMetric, "s",
			"Send latency of one delivery: from its turn in the fan-out (rate-limit waits and retries included) to its recorded outcome, by channel kind, status reached and error.type.",
			telemetry.DurationBounds()),
		retries: telemetry.Counter(m, retriesMetric, "{retry}",
			"Provider calls retried after a transient failure, by channel kind and error.type."),
		lag: telemetry.Histogram(m, dispatchLagMetric, "s",
			"How late a scheduled delivery went: the inbox's clock when the dispatcher sent it minus its due time (C8), by channel kind.",
			telemetry.LagBounds()),
		missed: telemetry.Counter(m, eventsMissedMetric, "{event}",
			"Events a slow subscriber missed because its buffer was full (T20); it can still have them from the inbox's history."),
		resyncs: telemetry.Counter(m, resyncsMetric, "{subscription}",
			"Subscriptions that resumed after an event the inbox no longer holds and began with EventResync: events lost to them, their state to reload (T20)."),
	}
}

// errorType is the error.type of an inbox error: the store's and the
// inbox's sentinels, then the channel's (telemetry.ErrorType).
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrDuplicate):
		return "duplicate"
	case errors.Is(err, ErrUnstorable):
		return "unstorable"
	case errors.Is(err, store.ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrInvalidArgument):
		return "invalid_argument"
	case errors.Is(err, ErrNoRecipient):
		return "no_recipient"
	case errors.Is(err, ErrClosed):
		return "closed"
	}
	return telemetry.ErrorType(err)
}

// fail ends span as failed with err, when err is not nil.
func fail(span trace.Span, err error) { telemetry.Fail(span, err, errorType(err)) }

// messaging returns the attributes of a messaging span of the inbox.
func messaging(op string, typ attribute.KeyValue, kind channel.Kind) []attribute.KeyValue {
	return []attribute.KeyValue{semconv.MessagingSystemKey.String(telemetry.System), semconv.MessagingOperationNameKey.String(op),
		typ, semconv.MessagingDestinationNameKey.String(kind.String()), telemetry.Channel(kind)}
}

// startSend starts the span of Inbox.Send.
func (o *observer) startSend(ctx context.Context, d Draft) (context.Context, trace.Span) {
	if o == nil {
		return ctx, off
	}
	ks := o.spans(d.Kind)
	ctx, span := o.tracer.Start(ctx, ks.send, o.producer...)
	if span.IsRecording() {
		span.SetAttributes(ks.sendAttrs...)
		span.SetAttributes(telemetry.ThreadIDKey.String(d.ThreadID))
	}
	return ctx, span
}

// endSend ends the span of Inbox.Send.
func (o *observer) endSend(span trace.Span, res SendResult, err error) {
	if span.IsRecording() {
		if res.Message.ID != "" {
			span.SetAttributes(telemetry.MessageIDKey.String(res.Message.ID),
				semconv.MessagingBatchMessageCountKey.Int(len(res.Deliveries)))
		}
		fail(span, err)
	}
	span.End()
}

// deliverSpan is the span of one delivery's send and what its end
// records. It is a value, kept on the sender's stack.
type deliverSpan struct {
	span    trace.Span
	kind    channel.Kind
	start   time.Time // zero when the send latency is not measured
	lastErr error     // the latest provider error
}

// startDeliver starts the span of one delivery's send (see fanout.one): a
// child of the operation that sends it (Send, Dispatch), started only when
// that operation's span records — as with store calls, a delivery outside
// a recorded trace would be a root span of its own, and a child of an
// unsampled span is not sampled either (the SDK's default, parent-based
// sampler). The send latency is measured whenever its histogram is
// enabled. Without an SDK, it allocates nothing.
func (o *observer) startDeliver(ctx context.Context, kind channel.Kind, d Delivery) (context.Context, deliverSpan) {
	s := deliverSpan{span: off, kind: kind}
	if o == nil {
		return ctx, s
	}
	if o.sendDur.Enabled(ctx) {
		s.start = time.Now()
	}
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, s
	}
	ks := o.spans(kind)
	ctx, s.span = o.tracer.Start(ctx, ks.deliver, trace.WithAttributes(ks.deliverAttrs...))
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.ThreadIDKey.String(d.ThreadID), telemetry.MessageIDKey.String(d.MessageID),
			telemetry.DeliveryIDKey.String(d.ID))
	}
	return ctx, s
}

// attempted notes the outcome of one provider call of a delivery.
func (s *deliverSpan) attempted(err error) {
	if err != nil {
		s.lastErr = err
		if s.span.IsRecording() {
			s.span.RecordError(err, trace.WithAttributes(semconv.ErrorTypeKey.String(errorType(err))))
		}
	}
}

// endDeliver ends the span of a delivery's send, whose delivery is now out
// (err: a store error), and records its latency.
func (o *observer) endDeliver(ctx context.Context, s deliverSpan, out Delivery, err error) {
	recording := s.span.IsRecording()
	if !recording && s.start.IsZero() {
		s.span.End()
		return
	}
	typ := ""
	failed := out.Status.Current == status.Failed
	switch {
	case err != nil:
		typ = errorType(err)
	case failed && s.lastErr != nil:
		typ = errorType(s.lastErr)
	case failed:
		typ = semconv.ErrorTypeOther.Value.AsString()
	}
	if span := s.span; recording {
		span.SetAttributes(telemetry.Status(out.Status.Current), telemetry.AttemptsKey.Int(out.Attempts))
		if out.ProviderID != "" {
			span.SetAttributes(telemetry.ProviderIDKey.String(out.ProviderID))
		}
		switch {
		case err != nil:
			fail(span, err)
		case failed:
			span.SetAttributes(semconv.ErrorTypeKey.String(typ))
			span.SetStatus(codes.Error, out.Reason)
		}
	}
	s.span.End()
	if !s.start.IsZero() {
		st := out.Status.Current
		opt := o.byStatus.Get(kindStatus{s.kind, st, typ}, func() []attribute.KeyValue {
			return kindStatusAttrs(s.kind, st, typ)
		})
		o.sendDur.Record(ctx, time.Since(s.start).Seconds(), opt.Record...)
	}
}

func kindStatusAttrs(k channel.Kind, s status.Status, errType string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{telemetry.Channel(k), telemetry.Status(s)}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	return attrs
}

// retried counts a provider call retried after err.
func (o *observer) retried(ctx context.Context, kind channel.Kind, err error) {
	if o != nil && o.retries.Enabled(ctx) {
		typ := errorType(err)
		o.retries.Add(ctx, 1, o.byError.Get(kindError{kind, typ}, func() []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.Channel(kind), semconv.ErrorTypeKey.String(typ)}
		}).Add...)
	}
}

// entered counts n deliveries of kind that entered status s.
func (o *observer) entered(ctx context.Context, kind channel.Kind, s status.Status, n int) {
	if o != nil && n > 0 && s.Valid() && o.deliveries.Enabled(ctx) {
		o.deliveries.Add(ctx, int64(n), o.byStatus.Get(kindStatus{kind, s, ""}, func() []attribute.KeyValue {
			return kindStatusAttrs(kind, s, "")
		}).Add...)
	}
}

// changed counts a delivery whose status went from prev to d's current.
func (o *observer) changed(ctx context.Context, prev status.Status, d Delivery) {
	o.moved(ctx, d.Kind, prev, d.Status.Current)
}

// moved counts a delivery of kind that went from status prev to now, if
// it moved.
func (o *observer) moved(ctx context.Context, kind channel.Kind, prev, now status.Status) {
	if now != prev {
		o.entered(ctx, kind, now, 1)
	}
}

// recorded counts the deliveries of a message just recorded, each in the
// status it was created with.
func (o *observer) recorded(ctx context.Context, kind channel.Kind, ds []Delivery) {
	if o == nil || len(ds) == 0 || !o.deliveries.Enabled(ctx) {
		return
	}
	n := 0
	s := ds[0].Status.Current
	for _, d := range ds {
		if d.Status.Current != s {
			o.entered(ctx, kind, s, n)
			s, n = d.Status.Current, 0
		}
		n++
	}
	o.entered(ctx, kind, s, n)
}

// startReceive starts the span of Inbox.ReceiveMessage.
func (o *observer) startReceive(ctx context.Context, msg channel.Inbound) (context.Context, trace.Span) {
	if o == nil {
		return ctx, off
	}
	ks := o.spans(msg.Kind)
	ctx, span := o.tracer.Start(ctx, ks.receive, o.consumer...)
	if span.IsRecording() {
		span.SetAttributes(ks.receiveAttrs...)
		if msg.ProviderID != "" {
			span.SetAttributes(telemetry.ProviderIDKey.String(msg.ProviderID))
		}
	}
	return ctx, span
}

// endReceive ends the span of Inbox.ReceiveMessage, which stored m.
func (o *observer) endReceive(span trace.Span, m *Message, err error) {
	if span.IsRecording() {
		if m.ID != "" {
			span.SetAttributes(telemetry.ThreadIDKey.String(m.ThreadID), telemetry.MessageIDKey.String(m.ID))
		}
		fail(span, err)
	}
	span.End()
}

// startStatus starts the span of a status report: Inbox.ApplyStatusUpdate,
// or Inbox.MarkPushOpened (raw "opened").
func (o *observer) startStatus(ctx context.Context, kind channel.Kind, providerID string, s status.Status, raw string) (context.Context, trace.Span) {
	if o == nil {
		return ctx, off
	}
	ks := o.spans(kind)
	ctx, span := o.tracer.Start(ctx, ks.status, o.consumer...)
	if span.IsRecording() {
		span.SetAttributes(ks.statusAttrs...)
		span.SetAttributes(attribute.String("parley.status.reported", s.String()), attribute.String("parley.status.raw", raw))
		if providerID != "" {
			span.SetAttributes(telemetry.ProviderIDKey.String(providerID))
		}
	}
	return ctx, span
}

// endStatus ends the span of a status report about delivery d.
func (o *observer) endStatus(span trace.Span, d *Delivery, err error) {
	if span.IsRecording() {
		if d.ID != "" {
			span.SetAttributes(telemetry.ThreadIDKey.String(d.ThreadID), telemetry.MessageIDKey.String(d.MessageID),
				telemetry.DeliveryIDKey.String(d.ID), telemetry.Status(d.Status.Current))
		}
		fail(span, err)
	}
	span.End()
}

// startRun starts the span of a dispatcher operation (Dispatch, Recover,
// a RunDispatcher round).
func (o *observer) startRun(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if o == nil {
		return ctx, off
	}
	return o.tracer.Start(ctx, name, opts...)
}

// endRun ends the span of a dispatcher operation with its counts.
func (o *observer) endRun(span trace.Span, err error, attrs ...attribute.KeyValue) {
	if span.IsRecording() {
		span.SetAttributes(attrs...)
		fail(span, err)
	}
	span.End()
}

// startRound starts the span of one RunDispatcher round: a new trace (the
// loop runs for the life of the process), linked to the caller's span.
func (o *observer) startRound(ctx context.Context) (context.Context, trace.Span) {
	if o == nil {
		return ctx, off
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot()}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return o.tracer.Start(ctx, "inbox.RunDispatcher", opts...)
}

// late records how late a due delivery of kind went.
func (o *observer) late(ctx context.Context, kind channel.Kind, by time.Duration) {
	if o != nil && o.lag.Enabled(ctx) {
		o.lag.Record(ctx, max(by, 0).Seconds(), o.byKind.Get(kind, func() []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.Channel(kind)}
		}).Record...)
	}
}

// missedEvents counts events subscribers missed.
func (o *observer) missedEvents(n int) {
	if ctx := context.Background(); o != nil && n > 0 && o.missed.Enabled(ctx) {
		o.missed.Add(ctx, int64(n))
	}
}

// resynced counts a subscription that began with EventResync.
func (o *observer) resynced() {
	if ctx := context.Background(); o != nil && o.resyncs.Enabled(ctx) {
		o.resyncs.Add(ctx, 1)
	}
}

// attributes are the span attributes of what Recover did.
func (r Recovery) attributes() []attribute.KeyValue {
	return []attribute.KeyValue{attribute.Int("parley.recovered.accepted", r.Accepted), attribute.Int("parley.recovered.not_sent", r.NotSent),
		attribute.Int("parley.recovered.unknown", r.Unknown), attribute.Int("parley.recovered.deferred", r.Deferred)}
}
