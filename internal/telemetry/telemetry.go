package telemetry

import (
	"context"
	"errors"
	"reflect"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// SchemaURL is the semantic conventions' schema the standard attributes
// follow.
const SchemaURL = semconv.SchemaURL

// System is the messaging.system of the inbox's messaging spans.
const System = "parley"

// The attribute keys of the parley namespace. Standard attributes
// (messaging.*, http.*, error.type) use the semconv package's keys.
const (
	// ChannelKey is the channel kind: "sms", "email", "whatsapp"….
	ChannelKey = attribute.Key("parley.channel")
	// ThreadIDKey, MessageIDKey and DeliveryIDKey are the inbox's IDs.
	ThreadIDKey   = attribute.Key("parley.thread.id")
	MessageIDKey  = attribute.Key("parley.message.id")
	DeliveryIDKey = attribute.Key("parley.delivery.id")
	// ProviderIDKey is the provider's message ID (a Twilio SID).
	ProviderIDKey = attribute.Key("parley.provider_message.id")
	// StatusKey is a delivery status (S1): "validated", "failed"….
	StatusKey = attribute.Key("parley.delivery.status")
	// AttemptsKey is the number of provider calls a delivery took.
	AttemptsKey = attribute.Key("parley.delivery.attempts")
	// ProviderKey names the provider behind a webhook or a Sender
	// ("twilio", "whatsapp", "email").
	ProviderKey = attribute.Key("parley.provider")
	// OutcomeKey is what a webhook made of its items (the worst one):
	// "stored", "unknown", "invalid" or "retry"; "rejected" for a request
	// refused before any reached the Receiver, "none" for one that carried
	// none.
	OutcomeKey = attribute.Key("parley.webhook.outcome")
	// CountKey is a number of items an operation handled.
	CountKey = attribute.Key("parley.count")
)

// Channel returns the parley.channel attribute of a kind.
func Channel(k channel.Kind) attribute.KeyValue { return ChannelKey.String(k.String()) }

// Status returns the parley.delivery.status attribute of a status.
func Status(s status.Status) attribute.KeyValue { return StatusKey.String(s.String()) }

// ErrorType returns the error.type value of err: "" for nil; a short name
// for the channel's sentinels and the context's errors ("opted_out",
// "transient", "timeout"…); "_OTHER" for any other error. The values are
// few, so they can be metric attributes.
func ErrorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, channel.ErrOptedOut):
		return "opted_out"
	case errors.Is(err, channel.ErrWindowClosed):
		return "window_closed"
	case errors.Is(err, channel.ErrAddressRetired):
		return "address_retired"
	case errors.Is(err, channel.ErrTemplateNotApproved):
		return "template_not_approved"
	case errors.Is(err, channel.ErrNotRegistered):
		return "not_registered"
	case errors.Is(err, channel.ErrAttachment):
		return "attachment"
	case errors.Is(err, channel.ErrInvalidMessage):
		return "invalid_message"
	case errors.Is(err, channel.ErrUnknownMessage):
		return "unknown_message"
	case errors.Is(err, channel.ErrTransient):
		return "transient"
	case errors.Is(err, channel.ErrPermanent):
		return "permanent"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// Fail marks a recording span as failed with err: status Error with the
// message, error.type set to typ, and the error recorded as an event. It
// does nothing for a nil error or a span that is not recording.
func Fail(span trace.Span, err error, typ string) {
	if err == nil || !span.IsRecording() {
		return
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(typ))
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// Tracer returns the tracer of an instrumentation scope (the instrumented
// package's import path) from tp, or from the otel global provider when tp
// is nil: a no-op until the host installs an SDK (otel.SetTracerProvider),
// and the host's SDK afterwards, even for tracers taken before.
//
// Without an SDK, the global provider's spans cost three allocations each
// (the span, boxed twice, and the context that holds it) although nothing
// records them: the tracer Tracer returns for the global provider starts
// none while the global provider is still otel's own default (no
// SDK installed) and the parent span does not record. It returns ctx as it
// is then, so that the parent's span context still propagates, and a
// non-recording span whose End does nothing. (An auto-instrumentation
// agent that hooks otel's global tracer, without an SDK, sees those
// operations only when the host installs an SDK or passes a provider.)
//
// The same holds for the API's no-op provider (trace/noop) given as tp:
// its spans record nothing, and its tracer allocated a context per span.
func Tracer(tp trace.TracerProvider, scope string) trace.Tracer {
	if tp != nil {
		t := tp.Tracer(scope, trace.WithSchemaURL(SchemaURL))
		if _, ok := tp.(noop.TracerProvider); ok {
			return &globalTracer{next: t}
		}
		return t
	}
	tp = otel.GetTracerProvider()
	t := tp.Tracer(scope, trace.WithSchemaURL(SchemaURL))
	if !isDefaultGlobal(tp) {
		return t
	}
	return &globalTracer{def: tp, next: t}
}

// isDefaultGlobal reports whether tp is the otel global provider as otel
// sets it up, before any SDK is installed: a type of otel's internal
// global package, which delegates to the SDK once one is installed.
func isDefaultGlobal(tp trace.TracerProvider) bool {
	t := reflect.TypeOf(tp)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global"
}

// globalTracer is a tracer of otel's default global provider, or of the
// no-op provider: see Tracer.
type globalTracer struct {
	embedded.Tracer
	def  trace.TracerProvider // otel's default global provider; nil: the no-op one
	next trace.Tracer         // the provider's tracer: the SDK's once one is installed
}

// unstarted is the span of an operation whose span was not started.
var unstarted trace.Span = noop.Span{}

// Start starts a span with the global provider's tracer, unless no SDK is
// installed and the parent span does not record.
func (t *globalTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if (t.def == nil || otel.GetTracerProvider() == t.def) && !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, unstarted
	}
	return t.next.Start(ctx, name, opts...)
}

// Meter is Tracer for metrics.
func Meter(mp metric.MeterProvider, scope string) metric.Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(scope, metric.WithSchemaURL(SchemaURL))
}

// Counter creates an Int64Counter, or a no-op one when the meter refuses
// it (the otel API's rule: instrumentation never fails its host).
func Counter(m metric.Meter, name, unit, desc string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	if err != nil || c == nil {
		c, _ = metricnoop.Meter{}.Int64Counter(name)
	}
	return c
}

// Histogram creates a Float64Histogram with explicit bucket boundaries
// (nil: the SDK's defaults), or a no-op one when the meter refuses it.
func Histogram(m metric.Meter, name, unit, desc string, bounds []float64) metric.Float64Histogram {
	opts := []metric.Float64HistogramOption{metric.WithUnit(unit), metric.WithDescription(desc)}
	if bounds != nil {
		opts = append(opts, metric.WithExplicitBucketBoundaries(bounds...))
	}
	h, err := m.Float64Histogram(name, opts...)
	if err != nil || h == nil {
		h, _ = metricnoop.Meter{}.Float64Histogram(name)
	}
	return h
}

// DurationBounds returns the bucket boundaries, in seconds, of Parley's
// duration histograms: those of the semantic conventions' HTTP durations,
// from 5 ms to 10 s.
func DurationBounds() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// LagBounds returns the bucket boundaries, in seconds, of the dispatcher
// lag: from a second to a day.
func LagBounds() []float64 {
	return []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}
}

// Set caches the measurement options of each attribute combination K,
// built once by the function given to Get, so that recording a
// measurement with attributes allocates nothing after the first time. The
// zero value is ready to use.
type Set[K comparable] struct {
	mu sync.RWMutex
	m  map[K]Options
}

// Options are the measurement options of one attribute set, as the
// instruments' methods take them: passing a slice built once
// (counter.Add(ctx, 1, opts.Add...)) allocates nothing, where an option
// passed alone would make a new variadic slice at every call.
type Options struct {
	Add    []metric.AddOption
	Record []metric.RecordOption
}

// Get returns the options of k, building its attributes with attrs the
// first time.
func (s *Set[K]) Get(k K, attrs func() []attribute.KeyValue) Options {
	s.mu.RLock()
	o, ok := s.m[k]
	s.mu.RUnlock()
	if ok {
		return o
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.m[k]; ok {
		return o
	}
	if s.m == nil {
		s.m = map[K]Options{}
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs()...))
	o = Options{Add: []metric.AddOption{set}, Record: []metric.RecordOption{set}}
	s.m[k] = o
	return o
}
