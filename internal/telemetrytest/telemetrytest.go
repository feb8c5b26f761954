// Package telemetrytest records what Parley's instrumentation reports, for
// tests: an OpenTelemetry SDK tracer provider whose ended spans are kept in
// memory (sdk/trace/tracetest) and a meter provider read on demand (a
// ManualReader), with helpers to find spans and sum metric points. Only
// tests import it, so the SDK never reaches a host's build through Parley.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Concurrency
//
// A Recorder is safe for concurrent use.
//
// # Errors
//
// Helpers fail the test (t.Fatal) when the SDK cannot be read.
package telemetrytest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Recorder holds an SDK tracer provider and meter provider that keep what
// they are given.
type Recorder struct {
	// TracerProvider and MeterProvider are to be passed to the code under
	// test.
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
	spans          *tracetest.SpanRecorder
	reader         *sdkmetric.ManualReader
}

// New returns a Recorder that samples every span; it is shut down when the
// test ends.
func New(t testing.TB) *Recorder {
	t.Helper()
	return NewSampled(t, sdktrace.AlwaysSample())
}

// NewSampled returns a Recorder whose tracer provider samples with
// sampler; it is shut down when the test ends.
func NewSampled(t testing.TB, sampler sdktrace.Sampler) *Recorder {
	t.Helper()
	r := &Recorder{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(r.spans))
	r.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		_ = r.TracerProvider.Shutdown(context.Background())
		_ = r.MeterProvider.Shutdown(context.Background())
	})
	return r
}

// Spans returns the spans ended so far, in the order they ended.
func (r *Recorder) Spans() []sdktrace.ReadOnlySpan { return r.spans.Ended() }

// Named returns the ended spans called name.
func (r *Recorder) Named(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// Children returns the ended spans whose parent is parent.
func (r *Recorder) Children(parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.Parent().TraceID() == parent.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

// ParentOf returns the ended span that is s's parent, if any.
func (r *Recorder) ParentOf(s sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
	for _, p := range r.spans.Ended() {
		if p.SpanContext().SpanID() == s.Parent().SpanID() && s.Parent().IsValid() {
			return p, true
		}
	}
	return nil, false
}

// Attr returns the value of attribute key on s.
func Attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// Str returns attribute key of s as a string, "" when absent.
func Str(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	v, _ := Attr(s, key)
	return v.Emit()
}

// Metric returns the metric called name, collected now; ok is false when
// nothing was recorded for it.
func (r *Recorder) Metric(t testing.TB, name string) (metricdata.Metrics, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// has reports whether set holds every attribute of want.
func has(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// Sum returns the sum of the points of counter name whose attributes
// include want.
func (r *Recorder) Sum(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := r.Metric(t, name)
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("metric %s is a %T, not an int64 sum", name, m.Data)
	}
	var n int64
	for _, p := range sum.DataPoints {
		if has(p.Attributes, want) {
			n += p.Value
		}
	}
	return n
}

// Histogram returns the count and sum of the points of histogram name
// whose attributes include want.
func (r *Recorder) Histogram(t testing.TB, name string, want ...attribute.KeyValue) (count uint64, sum float64) {
	t.Helper()
	m, ok := r.Metric(t, name)
	if !ok {
		return 0, 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("metric %s is a %T, not a float64 histogram", name, m.Data)
	}
	for _, p := range h.DataPoints {
		if has(p.Attributes, want) {
			count += p.Count
			sum += p.Sum
		}
	}
	return count, sum
}

// Points returns the attribute sets of the points of metric name.
func (r *Recorder) Points(t testing.TB, name string) []attribute.Set {
	t.Helper()
	m, ok := r.Metric(t, name)
	if !ok {
		return nil
	}
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}
