package inbox_test

import (
	"context"
	"fmt"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
)

// A host that runs an OpenTelemetry SDK hands its providers to the inbox
// (or installs them globally with otel.SetTracerProvider and
// otel.SetMeterProvider). Here in-memory ones stand for the host's
// exporters: a send is a "send sms" span with a "deliver sms" child per
// recipient, and parley.deliveries counts each delivery's statuses.
func Example_observability() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	ctx := context.Background()
	defer func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) }()

	dir := memstore.NewDirectory()
	_ = dir.PutContact(recipient.Contact{ID: "helene", FirstName: "Hélène", Phone: "+33612345678"})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, channeltest.NewFake(channel.SMS, channeltest.Options{}), channel.Config{})
	ib, _ := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg, TracerProvider: tp, MeterProvider: mp})
	th, _ := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "helene"})
	if _, err := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your class starts at 6pm"}); err != nil {
		fmt.Println(err)
	}

	for _, s := range spans.Ended() {
		if !strings.HasPrefix(s.Name(), "store.") { // every store call has a span too
			fmt.Println(s.Name(), s.SpanKind())
		}
	}
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "parley.deliveries" {
				for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
					st, _ := p.Attributes.Value("parley.delivery.status")
					fmt.Println(m.Name, st.AsString(), p.Value)
				}
			}
		}
	}
	// Unordered output:
	// deliver sms internal
	// send sms producer
	// parley.deliveries pending 1
	// parley.deliveries validated 1
}
