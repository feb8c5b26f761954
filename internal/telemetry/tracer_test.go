package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Issue 18: without an SDK, a span of the global provider costs nothing
// (no allocation, the context returned as it is, so that a parent's span
// context still propagates); a parent that records still gets its child;
// and an SDK installed after the tracer was taken records the spans. The
// steps run in this order in one test: the global provider, once an SDK is
// installed, cannot go back to otel's default.
func TestGlobalTracerWithoutSDK(t *testing.T) {
	tr := Tracer(nil, "test")
	if _, ok := tr.(*globalTracer); !ok {
		t.Fatalf("Tracer(nil) = %T, want the global tracer's wrapper while no SDK is installed", tr)
	}
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true})
	parent := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	ctx, span := tr.Start(parent, "op")
	if ctx != parent || span.IsRecording() {
		t.Fatalf("no SDK: got a new context or a recording span")
	}
	if got := trace.SpanContextFromContext(ctx); !got.Equal(remote) {
		t.Fatalf("span context %v, want the parent's %v", got, remote)
	}
	span.End()
	if n := testing.AllocsPerRun(100, func() {
		_, s := tr.Start(parent, "op")
		s.End()
	}); n != 0 {
		t.Fatalf("%v allocations per span without an SDK, want 0", n)
	}

	// a recording parent from a provider of the host's own: the global
	// provider starts its child as before
	rec := tracetest.NewSpanRecorder()
	host := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	hctx, hspan := host.Tracer("host").Start(context.Background(), "host")
	cctx, child := tr.Start(hctx, "op")
	if cctx == hctx || child.SpanContext().TraceID() != hspan.SpanContext().TraceID() {
		t.Fatalf("under a recording parent the child span was not started as before (the global provider's own)")
	}
	child.End()
	hspan.End()

	// an SDK installed after the tracer was taken
	otel.SetTracerProvider(host)
	_, s := tr.Start(context.Background(), "after")
	if !s.IsRecording() {
		t.Fatalf("with an SDK installed the span does not record")
	}
	s.End()
	if n := len(rec.Ended()); n != 2 {
		t.Fatalf("%d spans recorded, want 2 (host, after)", n)
	}
	if got := rec.Ended()[1].Name(); got != "after" {
		t.Fatalf("span %q recorded, want after", got)
	}
}

// Issue 18: the API's no-op provider costs no allocation per span either,
// and its spans keep the parent's span context.
func TestNoopTracer(t *testing.T) {
	tr := Tracer(noop.NewTracerProvider(), "test")
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true})
	parent := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	ctx, span := tr.Start(parent, "op")
	if span.IsRecording() || !trace.SpanContextFromContext(ctx).Equal(remote) {
		t.Fatalf("no-op provider: recording span, or the parent's span context lost")
	}
	if n := testing.AllocsPerRun(100, func() {
		_, s := tr.Start(parent, "op")
		s.End()
	}); n != 0 {
		t.Fatalf("%v allocations per span with the no-op provider, want 0", n)
	}
}
