package inbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// otelMode is a way a benchmark runs the inbox's OpenTelemetry
// instrumentation (issue 16).
type otelMode struct {
	name string
	// options returns the providers of the mode.
	options func(b *testing.B) inbox.Options
	// strip removes the instrumentation from the inbox.
	strip bool
}

// otelModes are run side by side in each telemetry benchmark:
//   - off: the inbox stripped of its instrumentation (no spans, no
//     metrics, no store wrapper): the baseline;
//   - noop: the default, the otel global providers with no SDK installed,
//     what every host that does not observe Parley runs;
//   - sdk: an SDK tracer provider that samples every span (and exports
//     none: the cost measured is the instrumentation's, not an
//     exporter's) and an SDK meter provider that aggregates every
//     measurement.
var otelModes = []otelMode{
	{name: "otel=off", options: func(*testing.B) inbox.Options { return inbox.Options{} }, strip: true},
	{name: "otel=noop", options: func(*testing.B) inbox.Options { return inbox.Options{} }},
	{name: "otel=sdk", options: func(b *testing.B) inbox.Options {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
		return inbox.Options{TracerProvider: tp, MeterProvider: mp}
	}},
}

// newModeInbox returns an inbox on st, with opts, instrumented as mode
// says.
func newModeInbox(b *testing.B, mode otelMode, st inbox.Store, opts inbox.Options) *inbox.Inbox {
	b.Helper()
	m := mode.options(b)
	opts.TracerProvider, opts.MeterProvider = m.TracerProvider, m.MeterProvider
	n := 0
	opts.Now = func() time.Time { return t0 }
	opts.NewID = func() string { n++; return "id" + strconv.Itoa(n) }
	in, err := inbox.New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	if mode.strip {
		inbox.Uninstrumented(in)
	}
	return in
}

// perOp reports, beside ns/op, the CPU time and the allocations of the
// b.N operations of run, each of which handles items deliveries or
// messages, per item.
func perOp(b *testing.B, items int, unit string, run func()) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	run()
	used := cpuTime() - cpu
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	n := float64(b.N * items)
	if used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/n, "cpu-ns/"+unit)
	}
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/"+unit)
}

// BenchmarkTelemetrySend measures what the OpenTelemetry instrumentation
// costs Send (M2): one message to a contact (one delivery) and to an
// audience of 1,000 members (1,000 deliveries, a deliver span each), with
// the instrumentation off, without an SDK (the default) and with one
// (otelModes), in the same run. The channel answers at once and keeps
// nothing, so the figures are the inbox's own; cpu-ns/delivery and
// allocs/delivery divide by the deliveries.
func BenchmarkTelemetrySend(b *testing.B) {
	for _, members := range []int{1, 1000} {
		dir := memstore.NewDirectory()
		cs := make([]recipient.Contact, members)
		for i := range cs {
			cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", Phone: phone(i)}
		}
		dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All members", Members: cs})
		var n atomic.Int64
		sender := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
			return channel.Receipt{ProviderID: "P" + strconv.FormatInt(n.Add(1), 10), Status: status.Validated}, nil
		})
		for _, mode := range otelModes {
			b.Run(fmt.Sprintf("recipients=%d/%s", members, mode.name), func(b *testing.B) {
				reg := channel.NewRegistry()
				if err := reg.Register(channel.SMS, sender, channel.Config{}); err != nil {
					b.Fatal(err)
				}
				in := newModeInbox(b, mode, memstore.New(), inbox.Options{Directory: dir, Channels: reg})
				ctx := context.Background()
				th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
				if err != nil {
					b.Fatal(err)
				}
				perOp(b, members, "delivery", func() {
					for range b.N {
						res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday for maintenance."})
						if err != nil || len(res.Deliveries) != members {
							b.Fatalf("%d deliveries, %v", len(res.Deliveries), err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkTelemetryReceive measures what the OpenTelemetry
// instrumentation costs ReceiveMessage (M5): an inbound SMS into an
// existing thread of an inbox holding 10,000 contact threads, with the
// instrumentation off, without an SDK and with one (otelModes), in the
// same run.
func BenchmarkTelemetryReceive(b *testing.B) {
	const threads = 10_000
	dir := memstore.NewDirectory()
	for i := range threads {
		_ = dir.PutContact(recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", LastName: fmt.Sprintf("Martin%d", i), Phone: phone(i)})
	}
	for _, mode := range otelModes {
		b.Run(mode.name, func(b *testing.B) {
			in := newModeInbox(b, mode, memstore.New(), inbox.Options{Directory: dir})
			ctx := context.Background()
			for i := range threads {
				if _, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: phone(i), Text: "Bonjour", ProviderID: fmt.Sprintf("seed%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			msgs := make([]channel.Inbound, b.N)
			for i := range msgs {
				msgs[i] = channel.Inbound{Kind: channel.SMS, From: phone(rng.IntN(threads)), Text: "Is there parking near the studio?", ProviderID: fmt.Sprintf("SM%d", i)}
			}
			perOp(b, 1, "message", func() {
				for i := range b.N {
					if _, err := in.ReceiveMessage(ctx, msgs[i]); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
