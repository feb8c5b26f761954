package otelchannel_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/otelchannel"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
	"github.com/parleyhq/parley/status"
)

// TestSendSpansAndMetric: each Send is a client span "submit {kind}", child
// of the caller's span, with the delivery's reference, the provider's ID
// and status, or the error's type; parley.submit.duration counts the calls
// by channel, provider and error.type.
func TestSendSpansAndMetric(t *testing.T) {
	rec := telemetrytest.New(t)
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
	s := otelchannel.Middleware(otelchannel.Options{Provider: "twilio", TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider})(fake)
	ctx, parent := rec.TracerProvider.Tracer("test").Start(context.Background(), "deliver sms")
	msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Class moved to 6pm", Reference: "d1"}
	r, err := s.Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(channeltest.Permanent("unreachable"))
	if _, err := s.Send(ctx, msg); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("second send: %v, want the fake's permanent error unchanged", err)
	}
	parent.End()

	spans := rec.Named("submit sms")
	if len(spans) != 2 {
		t.Fatalf("%d submit spans, want 2", len(spans))
	}
	ok, failed := spans[0], spans[1]
	for _, sp := range spans {
		if sp.SpanKind() != trace.SpanKindClient || sp.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span kind %v parent %v: want a client span under the caller's", sp.SpanKind(), sp.Parent())
		}
		for k, want := range map[attribute.Key]string{
			telemetry.ChannelKey: "sms", telemetry.ProviderKey: "twilio", semconv.MessagingSystemKey: "twilio",
			semconv.MessagingOperationNameKey: "submit", semconv.MessagingOperationTypeKey: "send", telemetry.DeliveryIDKey: "d1",
		} {
			if got := telemetrytest.Str(sp, k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	}
	if got := telemetrytest.Str(ok, telemetry.ProviderIDKey); got != r.ProviderID || got == "" {
		t.Errorf("provider message ID %q, want %q", got, r.ProviderID)
	}
	if got := telemetrytest.Str(ok, telemetry.StatusKey); got != status.Validated.String() {
		t.Errorf("status %q, want validated", got)
	}
	if ok.Status().Code == codes.Error || failed.Status().Code != codes.Error {
		t.Errorf("statuses %v and %v, want unset then Error", ok.Status(), failed.Status())
	}
	if got := telemetrytest.Str(failed, semconv.ErrorTypeKey); got != "permanent" {
		t.Errorf("error.type %q, want permanent", got)
	}
	if n, _ := rec.Histogram(t, otelchannel.DurationMetric, telemetry.ChannelKey.String("sms"), telemetry.ProviderKey.String("twilio")); n != 2 {
		t.Errorf("%s counted %d calls, want 2", otelchannel.DurationMetric, n)
	}
	if n, _ := rec.Histogram(t, otelchannel.DurationMetric, semconv.ErrorTypeKey.String("permanent")); n != 1 {
		t.Errorf("%s counted %d failed calls, want 1", otelchannel.DurationMetric, n)
	}
}

// TestOptionalInterfaces: the wrapper is a channel.Finder, Canceler and
// CapabilityReporter exactly when the wrapped Sender is, so the inbox's
// Recover asks the provider through it (and the Registry reads the
// provider's capabilities); Find and Cancel are traced too.
func TestOptionalInterfaces(t *testing.T) {
	rec := telemetrytest.New(t)
	mw := otelchannel.Middleware(otelchannel.Options{TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider})
	bare := mw(channel.SenderFunc(func(context.Context, *channel.Message) (channel.Receipt, error) { return channel.Receipt{}, nil }))
	if _, ok := bare.(channel.Finder); ok {
		t.Error("a SenderFunc wrapped is a Finder")
	}
	if _, ok := bare.(channel.Canceler); ok {
		t.Error("a SenderFunc wrapped is a Canceler")
	}
	if _, ok := bare.(channel.CapabilityReporter); ok {
		t.Error("a SenderFunc wrapped is a CapabilityReporter")
	}
	caps := channel.DefaultCapabilities(channel.SMS)
	caps.Attachments.MaxBytes = 1234
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Capabilities: &caps})
	s := mw(fake)
	f, isF := s.(channel.Finder)
	c, isC := s.(channel.Canceler)
	r, isR := s.(channel.CapabilityReporter)
	if !isF || !isC || !isR {
		t.Fatalf("wrapped fake: Finder %v, Canceler %v, CapabilityReporter %v; want all", isF, isC, isR)
	}
	if r.Capabilities().Attachments.MaxBytes != 1234 {
		t.Error("capabilities not the wrapped Sender's")
	}
	ctx := context.Background()
	msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "hi", Reference: "d9"}
	sent, err := s.Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	found, err := f.Find(ctx, msg)
	if err != nil || found.ProviderID != sent.ProviderID {
		t.Fatalf("Find through the wrapper: %+v, %v; want %s", found, err, sent.ProviderID)
	}
	if err := c.Cancel(ctx, sent.ProviderID); err == nil {
		t.Fatal("cancelling a message already sent succeeded")
	}
	if len(rec.Named("find sms")) != 1 || len(rec.Named("cancel")) != 1 {
		t.Errorf("spans: %d find, %d cancel; want 1 each", len(rec.Named("find sms")), len(rec.Named("cancel")))
	}
	// every combination keeps exactly the wrapped Sender's abilities
	type finderOnly struct {
		channel.Sender
		channel.Finder
	}
	if w := mw(finderOnly{fake, fake}); !implements[channel.Finder](w) || implements[channel.Canceler](w) || implements[channel.CapabilityReporter](w) {
		t.Error("a Finder-only Sender wrapped has other abilities")
	}
	type cancelReport struct {
		channel.Sender
		channel.Canceler
		channel.CapabilityReporter
	}
	if w := mw(cancelReport{fake, fake, fake}); implements[channel.Finder](w) || !implements[channel.Canceler](w) || !implements[channel.CapabilityReporter](w) {
		t.Error("a Canceler and CapabilityReporter wrapped has other abilities")
	}
}

func implements[T any](s channel.Sender) bool {
	_, ok := s.(T)
	return ok
}

// Issue 16: without an SDK (the otel global providers) the wrapper costs a
// Send no more than the API's non-recording span (3 allocations: the span
// and the context that carries it): no span name, option or attribute is
// built per call.
func TestNoSDKCost(t *testing.T) {
	ctx := context.Background()
	bare := channel.SenderFunc(func(context.Context, *channel.Message) (channel.Receipt, error) {
		return channel.Receipt{ProviderID: "SM1", Status: status.Validated}, nil
	})
	wrapped := otelchannel.Middleware(otelchannel.Options{Provider: "twilio"})(bare)
	msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Class moved to 6pm", Reference: "d1"}
	base := testing.AllocsPerRun(200, func() { _, _ = bare.Send(ctx, msg) })
	got := testing.AllocsPerRun(200, func() { _, _ = wrapped.Send(ctx, msg) })
	if got-base > 3 {
		t.Errorf("the wrapper adds %v allocations to a Send without an SDK, want at most 3", got-base)
	}
}
