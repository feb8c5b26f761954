package email

import (
	"errors"
	"net/http"
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
)

// TestHandlerTelemetry: each inbound mail is a request span of the email
// scope, counted by HTTP status code and outcome: stored (200), a store
// failure the relay retries (500, "retry"), a bad signature (403,
// "rejected").
func TestHandlerTelemetry(t *testing.T) {
	rec := telemetrytest.New(t)
	r := &recorder{}
	h := newTestHandler(t, r, func(c *HandlerConfig) {
		c.TracerProvider, c.MeterProvider = rec.TracerProvider, rec.MeterProvider
	})
	body := []byte(rawReply)
	serve(h, signedRequest(body, "message/rfc822", t0, hookSecret))
	serve(h, signedRequest(body, "message/rfc822", t0, []byte("another-secret-0123456789abcdef")))
	r.mu.Lock()
	r.err = errors.New("store down")
	r.mu.Unlock()
	serve(h, signedRequest(body, "message/rfc822", t0, hookSecret))

	for _, c := range []struct {
		code    int
		outcome string
	}{{http.StatusOK, "stored"}, {http.StatusForbidden, "rejected"}, {http.StatusInternalServerError, "retry"}} {
		n, _ := rec.Histogram(t, "parley.webhook.request.duration", telemetry.ProviderKey.String("email"),
			semconv.HTTPResponseStatusCodeKey.Int(c.code), telemetry.OutcomeKey.String(c.outcome))
		if n != 1 {
			t.Errorf("answered %d (%s): counted %d, want 1", c.code, c.outcome, n)
		}
	}
	spans := rec.Named("POST")
	if len(spans) != 3 {
		t.Fatalf("%d request spans, want 3", len(spans))
	}
	if s := spans[2]; s.InstrumentationScope().Name != "github.com/parleyhq/parley/channel/email" ||
		telemetrytest.Str(s, semconv.ErrorTypeKey) != "500" {
		t.Errorf("failed request span: scope %q, error.type %q", s.InstrumentationScope().Name, telemetrytest.Str(s, semconv.ErrorTypeKey))
	}
}
