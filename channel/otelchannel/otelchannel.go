package otelchannel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/internal/telemetry"
)

// scope is the instrumentation scope of the middleware's spans and metrics.
const scope = "github.com/parleyhq/parley/channel/otelchannel"

// The names of the middleware's metrics.
const (
	// DurationMetric is the histogram of provider calls (Send, Find,
	// Cancel), in seconds.
	DurationMetric = "parley.submit.duration"
)

// Options configure the middleware. The zero value sends spans and metrics
// to the otel global providers and names no provider.
type Options struct {
	// Provider names the provider behind the Sender ("twilio"): it is the
	// messaging.system of the spans and the parley.provider of the spans
	// and metrics. Default: none, and the spans carry no messaging.system.
	Provider string
	// TracerProvider and MeterProvider receive the spans and metrics.
	// Default: the otel global providers, no-ops until the host installs an
	// SDK.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Middleware returns a channel.Middleware that traces and measures every
// call of the Sender it wraps: Send, and Find and Cancel when the Sender
// has them. The wrapper implements channel.Finder, channel.Canceler and
// channel.CapabilityReporter exactly when the wrapped Sender does, so the
// inbox's Recover and the Registry's capabilities see through it.
//
// Spans, children of the caller's (an inbox delivery's "deliver {kind}"):
//
//	name             kind    attributes
//	submit {kind}    client  messaging.operation.name=submit, messaging.operation.type=send,
//	                         messaging.destination.name and parley.channel = the kind,
//	                         parley.delivery.id (the message's Reference), parley.provider;
//	                         after: parley.provider_message.id, parley.delivery.status (the
//	                         receipt's); on failure error.type and status Error
//	find {kind}      client  the same, messaging.operation.name=find
//	cancel           client  parley.provider, parley.provider_message.id
//
// Metric: parley.submit.duration (histogram, s): the time of each call, by
// messaging.operation.name, parley.channel, parley.provider and error.type
// (absent on success). Sends are retried by their caller, so each attempt
// is one span and one measurement.
func Middleware(opts Options) channel.Middleware {
	m := telemetry.Meter(opts.MeterProvider, scope)
	t := &tel{provider: opts.Provider, tracer: telemetry.Tracer(opts.TracerProvider, scope),
		duration: telemetry.Histogram(m, DurationMetric, "s",
			"Duration of the calls of a channel Sender to its provider (one per attempt).", telemetry.DurationBounds()),
		client: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}, names: map[spanKey]string{}}
	for _, op := range []string{"submit", "find"} {
		for _, k := range channel.Kinds() {
			t.names[spanKey{op, k}] = op + " " + k.String()
		}
	}
	return func(next channel.Sender) channel.Sender {
		s := &sender{tel: t, next: next}
		f, isF := next.(channel.Finder)
		c, isC := next.(channel.Canceler)
		r, isR := next.(channel.CapabilityReporter)
		fm, cm, rm := finder{s, f}, canceler{s, c}, reporter{r}
		switch {
		case isF && isC && isR:
			return struct {
				*sender
				finder
				canceler
				reporter
			}{s, fm, cm, rm}
		case isF && isC:
			return struct {
				*sender
				finder
				canceler
			}{s, fm, cm}
		case isF && isR:
			return struct {
				*sender
				finder
				reporter
			}{s, fm, rm}
		case isC && isR:
			return struct {
				*sender
				canceler
				reporter
			}{s, cm, rm}
		case isF:
			return struct {
				*sender
				finder
			}{s, fm}
		case isC:
			return struct {
				*sender
				canceler
			}{s, cm}
		case isR:
			return struct {
				*sender
				reporter
			}{s, rm}
		}
		return s
	}
}

// tel is what every Sender wrapped by one Middleware shares.
type tel struct {
	provider string
	tracer   trace.Tracer
	duration metric.Float64Histogram
	opts     telemetry.Set[callKey]
	// built once, read-only: a span's start allocates no option slice
	// and no name
	client []trace.SpanStartOption
	names  map[spanKey]string
}

type spanKey struct {
	op   string
	kind channel.Kind
}

type callKey struct {
	op      string
	kind    channel.Kind
	errType string
}

// start starts the span of one call.
func (t *tel) start(ctx context.Context, op string, kind channel.Kind, msg *channel.Message) (context.Context, trace.Span) {
	name, ok := t.names[spanKey{op, kind}]
	switch {
	case ok:
	case kind != 0:
		name = op + " " + kind.String()
	default:
		name = op
	}
	ctx, span := t.tracer.Start(ctx, name, t.client...)
	if span.IsRecording() {
		span.SetAttributes(semconv.MessagingOperationNameKey.String(op))
		if op != "cancel" {
			span.SetAttributes(semconv.MessagingOperationTypeSend)
		}
		if kind != 0 {
			span.SetAttributes(semconv.MessagingDestinationNameKey.String(kind.String()), telemetry.Channel(kind))
		}
		if t.provider != "" {
			span.SetAttributes(semconv.MessagingSystemKey.String(t.provider), telemetry.ProviderKey.String(t.provider))
		}
		if msg != nil && msg.Reference != "" {
			span.SetAttributes(telemetry.DeliveryIDKey.String(msg.Reference))
		}
	}
	return ctx, span
}

// end ends the span of one call and records its duration.
func (t *tel) end(ctx context.Context, span trace.Span, op string, kind channel.Kind, start time.Time, r channel.Receipt, err error) {
	typ := telemetry.ErrorType(err)
	if span.IsRecording() {
		if r.ProviderID != "" {
			span.SetAttributes(telemetry.ProviderIDKey.String(r.ProviderID))
		}
		if r.Status.Valid() {
			span.SetAttributes(telemetry.Status(r.Status))
		}
		telemetry.Fail(span, err, typ)
	}
	span.End()
	if t.duration.Enabled(ctx) {
		opt := t.opts.Get(callKey{op, kind, typ}, func() []attribute.KeyValue {
			attrs := []attribute.KeyValue{semconv.MessagingOperationNameKey.String(op)}
			if kind != 0 {
				attrs = append(attrs, telemetry.Channel(kind))
			}
			if t.provider != "" {
				attrs = append(attrs, telemetry.ProviderKey.String(t.provider))
			}
			if typ != "" {
				attrs = append(attrs, semconv.ErrorTypeKey.String(typ))
			}
			return attrs
		})
		t.duration.Record(ctx, time.Since(start).Seconds(), opt.Record...)
	}
}

// sender is the wrapper of one Sender.
type sender struct {
	*tel
	next channel.Sender
}

// Send implements channel.Sender.
func (s *sender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	start := time.Now()
	var kind channel.Kind
	if msg != nil {
		kind = msg.Kind
	}
	ctx, span := s.start(ctx, "submit", kind, msg)
	r, err := s.next.Send(ctx, msg)
	s.end(ctx, span, "submit", kind, start, r, err)
	return r, err
}

type finder struct {
	s    *sender
	next channel.Finder
}

// Find implements channel.Finder.
func (f finder) Find(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	start := time.Now()
	var kind channel.Kind
	if msg != nil {
		kind = msg.Kind
	}
	ctx, span := f.s.start(ctx, "find", kind, msg)
	r, err := f.next.Find(ctx, msg)
	f.s.end(ctx, span, "find", kind, start, r, err)
	return r, err
}

type canceler struct {
	s    *sender
	next channel.Canceler
}

// Cancel implements channel.Canceler.
func (c canceler) Cancel(ctx context.Context, providerID string) error {
	start := time.Now()
	ctx, span := c.s.start(ctx, "cancel", 0, nil)
	err := c.next.Cancel(ctx, providerID)
	c.s.end(ctx, span, "cancel", 0, start, channel.Receipt{ProviderID: providerID}, err)
	return err
}

type reporter struct{ next channel.CapabilityReporter }

// Capabilities implements channel.CapabilityReporter.
func (r reporter) Capabilities() channel.Capabilities { return r.next.Capabilities() }
