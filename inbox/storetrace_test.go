package inbox

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
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
