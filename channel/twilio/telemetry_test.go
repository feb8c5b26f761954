package twilio_test

import (
	"errors"
	"net/http"
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
)

// TestHandlerTelemetry: every webhook request is a server span of the
// twilio scope with its answer and outcome, and is counted by HTTP status
// code and outcome in parley.webhook.request.duration: a stored message, a
// duplicate of it (M5, stored again for the provider), a bad signature
// (rejected, 403) and a store failure (500, retry).
func TestHandlerTelemetry(t *testing.T) {
	rec := telemetrytest.New(t)
	e := newHook(t, func(c *twilio.HandlerConfig) {
		c.TracerProvider, c.MeterProvider = rec.TracerProvider, rec.MeterProvider
	})
	e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(1), "hello")))
	e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(1), "hello")))
	e.do(withHeader(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(2), "hello")), twilio.SignatureHeader, "!!"))
	e.rec.setErr(errors.New("store down"))
	e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(3), "hello")))

	spans := rec.Named("POST")
	if len(spans) != 4 {
		t.Fatalf("%d request spans, want 4", len(spans))
	}
	for i, want := range []struct {
		code    string
		outcome string
	}{{"200", "stored"}, {"200", "stored"}, {"403", "rejected"}, {"500", "retry"}} {
		s := spans[i]
		if s.InstrumentationScope().Name != "github.com/parleyhq/parley/channel/twilio" || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("request %d: scope %q kind %v", i, s.InstrumentationScope().Name, s.SpanKind())
		}
		if got := telemetrytest.Str(s, semconv.HTTPResponseStatusCodeKey); got != want.code {
			t.Errorf("request %d: status code %s, want %s", i, got, want.code)
		}
		if got := telemetrytest.Str(s, telemetry.OutcomeKey); got != want.outcome {
			t.Errorf("request %d: outcome %s, want %s", i, got, want.outcome)
		}
	}
	for _, c := range []struct {
		code    int
		outcome string
		n       uint64
	}{{http.StatusOK, "stored", 2}, {http.StatusForbidden, "rejected", 1}, {http.StatusInternalServerError, "retry", 1}} {
		n, _ := rec.Histogram(t, "parley.webhook.request.duration", telemetry.ProviderKey.String("twilio"),
			semconv.HTTPResponseStatusCodeKey.Int(c.code), telemetry.OutcomeKey.String(c.outcome))
		if n != c.n {
			t.Errorf("requests answered %d (%s): %d, want %d", c.code, c.outcome, n, c.n)
		}
	}
}
