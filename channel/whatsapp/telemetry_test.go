package whatsapp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/parleyhq/parley/channel/whatsapp"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
)

// TestWebhookTelemetry: each notification is a request span of the
// whatsapp scope carrying the worst outcome of its items, counted by HTTP
// status code and outcome: a batch with an unknown status is acknowledged
// (200, "unknown": the worst item), a bad signature is rejected (403), and
// the verification handshake hands no item (200, "none").
func TestWebhookTelemetry(t *testing.T) {
	rec := telemetrytest.New(t)
	st := newStore()
	st.known = map[string]bool{"wamid.OUT1": true, "wamid.OUT3": true}
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) {
		c.TracerProvider, c.MeterProvider = rec.TracerProvider, rec.MeterProvider
	})
	post(h, readTestdata(t, "text.json"), "")
	post(h, readTestdata(t, "statuses.json"), "")
	post(h, readTestdata(t, "text.json"), "sha256=00")
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1"}}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/whatsapp?"+q.Encode(), nil))

	for _, c := range []struct {
		method  string
		code    int
		outcome string
	}{{"POST", 200, "stored"}, {"POST", 200, "unknown"}, {"POST", 403, "rejected"}, {"GET", 200, "none"}} {
		n, _ := rec.Histogram(t, "parley.webhook.request.duration", telemetry.ProviderKey.String("whatsapp"),
			semconv.HTTPRequestMethodKey.String(c.method), semconv.HTTPResponseStatusCodeKey.Int(c.code), telemetry.OutcomeKey.String(c.outcome))
		if n != 1 {
			t.Errorf("%s answered %d (%s): counted %d, want 1", c.method, c.code, c.outcome, n)
		}
	}
	spans := append(rec.Named("POST"), rec.Named("GET")...)
	if len(spans) != 4 {
		t.Fatalf("%d request spans, want 4", len(spans))
	}
	for _, s := range spans {
		if s.InstrumentationScope().Name != "github.com/parleyhq/parley/channel/whatsapp" {
			t.Errorf("span %s of scope %q", s.Name(), s.InstrumentationScope().Name)
		}
	}
}
