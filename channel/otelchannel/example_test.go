package otelchannel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/otelchannel"
)

// A host wraps the Sender it registers; here an SDK with an in-memory
// recorder stands for the host's exporter.
func ExampleMiddleware() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	sender := channel.Chain(channeltest.NewFake(channel.SMS, channeltest.Options{}),
		otelchannel.Middleware(otelchannel.Options{Provider: "twilio", TracerProvider: tp}))
	_, isFinder := sender.(channel.Finder)
	if _, err := sender.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "See you at 6pm"}); err != nil {
		fmt.Println(err)
	}
	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	fmt.Println("still a Finder:", isFinder)
	// Output:
	// submit sms client
	// still a Finder: true
}
