//go:build unix

package inbox

import (
	"context"
	"syscall"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// BenchmarkObserverNoSDK measures the instrumentation of Send in
// isolation, without an SDK: "send" is what it costs once per Send (the
// send span, the count of the deliveries recorded), "deliver" what it
// costs per delivery (the delivery's span, latency, status count and two
// store calls' checks, under the send's span). Each runs with the otel
// global providers (the default), with no-op providers, and with the
// instrumentation off (a nil observer), in the same run: what the
// end-to-end BenchmarkTelemetrySend cannot resolve under a loaded
// machine's noise. cpu-ns/op is the process's processor time per
// operation, the truer figure on a machine shared with other work.
func BenchmarkObserverNoSDK(b *testing.B) {
	d := Delivery{ID: "d1", ThreadID: "t1", MessageID: "m1", Kind: channel.SMS, Status: status.Record{Current: status.Validated}}
	draft := Draft{Kind: channel.SMS, ThreadID: "t1"}
	res := SendResult{Message: Message{ID: "m1"}, Deliveries: []Delivery{d}}
	modes := []struct {
		name string
		obs  *observer
	}{{"otel=off", nil}, {"otel=global", newObserver(nil, nil)},
		{"otel=noop", newObserver(noop.NewTracerProvider(), metricnoop.NewMeterProvider())}}
	ops := []struct {
		name string
		run  func(o *observer, ctx context.Context)
	}{
		{"send", func(o *observer, ctx context.Context) {
			sctx, span := o.startSend(ctx, draft)
			o.recorded(sctx, channel.SMS, res.Deliveries)
			o.endSend(span, res, nil)
		}},
		{"deliver", func(o *observer, ctx context.Context) {
			dctx, ds := o.startDeliver(ctx, channel.SMS, d)
			_ = traced(dctx) // the outbox mark's store call
			ds.attempted(nil)
			_ = traced(dctx) // the outcome's store call
			o.changed(dctx, status.Pending, d)
			o.endDeliver(dctx, ds, d, nil)
		}},
	}
	for _, op := range ops {
		for _, m := range modes {
			b.Run(op.name+"/"+m.name, func(b *testing.B) {
				ctx, span := m.obs.startSend(context.Background(), draft) // the deliveries' parent
				defer span.End()
				b.ReportAllocs()
				cpu := processTime()
				for b.Loop() {
					op.run(m.obs, ctx)
				}
				if used := processTime() - cpu; used > 0 {
					b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// processTime returns the processor time (user and system) the process
// has used so far.
func processTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
