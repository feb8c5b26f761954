package inbox

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// Issue 16: without a recording span around it — no SDK installed, or a
// call outside any trace — a store call through the inbox's tracing
// wrapper allocates nothing more than the store's own call.
func TestTracedStoreCostsNothingUntraced(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	th := store.Thread{ID: "t1", Subject: store.Subject{Kind: store.Contact, ID: "ana"}}
	if err := st.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
		t.Fatal(err)
	}
	obs := newObserver(nil, nil) // the otel global providers: no SDK
	traced := &tracedStore{next: st, tracer: obs.tracer}
	_, span := noop.NewTracerProvider().Tracer("").Start(ctx, "not recording")
	for name, ctx := range map[string]context.Context{"no span": ctx, "a non-recording span": trace.ContextWithSpan(ctx, span)} {
		bare := testing.AllocsPerRun(200, func() { _, _ = st.Thread(ctx, "t1") })
		wrapped := testing.AllocsPerRun(200, func() { _, _ = traced.Thread(ctx, "t1") })
		if wrapped != bare {
			t.Errorf("%s: store.Thread through the wrapper allocates %v times, the store alone %v", name, wrapped, bare)
		}
	}
}

// M2 (issue 16): without an SDK — the otel global providers, no-op
// providers, or an uninstrumented inbox — a delivery's span and latency cost no
// allocation, whether or not the operation around it has a span: the
// fan-out's per-delivery path stays as cheap as without instrumentation.
func TestDeliverSpanCostsNothingWithoutSDK(t *testing.T) {
	ctx := context.Background()
	_, parent := noop.NewTracerProvider().Tracer("").Start(ctx, "not recording")
	d := Delivery{ID: "d1", ThreadID: "t1", MessageID: "m1", Kind: channel.SMS}
	for name, obs := range map[string]*observer{"global providers": newObserver(nil, nil),
		"no-op providers": newObserver(noop.NewTracerProvider(), metricnoop.NewMeterProvider()), "uninstrumented": nil} {
		for cname, ctx := range map[string]context.Context{"no span": ctx, "a non-recording span": trace.ContextWithSpan(ctx, parent)} {
			allocs := testing.AllocsPerRun(200, func() {
				dctx, s := obs.startDeliver(ctx, channel.SMS, d)
				s.attempted(nil)
				obs.retried(dctx, channel.SMS, channel.ErrTransient)
				obs.changed(dctx, status.Pending, d)
				obs.endDeliver(dctx, s, d, nil)
			})
			if allocs != 0 {
				t.Errorf("%s, %s: a delivery's instrumentation allocates %v times, want 0", name, cname, allocs)
			}
		}
	}
}
