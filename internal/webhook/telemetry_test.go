package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
)

// hook is a webhook handler in the shape of the adapters': it hands one
// item to a Receiver that returns err, notes the outcome and answers with
// its code; a request without the X-Sig header is refused with 403 before.
func hook(tel *Telemetry, err error, child trace.Tracer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tel.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Sig") == "" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			_, span := child.Start(r.Context(), "receive sms")
			span.End()
			o := Classify(err)
			Note(w, o)
			w.WriteHeader(o.Code(http.StatusBadRequest))
		})
	})
}

// TestTelemetryServe: a webhook request is a server span named after its
// method and the route it was mounted on, parent of what the Receiver
// does, with the status code and outcome as attributes; 5xx marks it
// failed; the duration histogram counts requests by code and outcome.
func TestTelemetryServe(t *testing.T) {
	rec := telemetrytest.New(t)
	for _, c := range []struct {
		err     error
		sig     bool
		code    int
		outcome string
	}{
		{nil, true, 200, "stored"},
		{channel.ErrUnknownMessage, true, 200, "unknown"},
		{channel.ErrInvalidMessage, true, 400, "invalid"},
		{errors.New("store down"), true, 500, "retry"},
		{nil, false, 403, Rejected},
	} {
		tel := NewTelemetry("twilio", "test/webhook", rec.TracerProvider, rec.MeterProvider)
		mux := http.NewServeMux()
		mux.Handle("POST /hooks/{tenant}/twilio", hook(tel, c.err, rec.TracerProvider.Tracer("test/receiver")))
		req := httptest.NewRequest(http.MethodPost, "/hooks/7/twilio?x=1", strings.NewReader("body"))
		if c.sig {
			req.Header.Set("X-Sig", "ok")
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != c.code {
			t.Fatalf("%v: answered %d, want %d", c.err, w.Code, c.code)
		}
		spans := rec.Named("POST /hooks/{tenant}/twilio")
		s := spans[len(spans)-1]
		if s.SpanKind() != trace.SpanKindServer || s.Parent().IsValid() {
			t.Errorf("%v: span kind %v, parent %v: want a root server span", c.err, s.SpanKind(), s.Parent())
		}
		for k, want := range map[attribute.Key]string{
			semconv.HTTPRequestMethodKey: "POST", semconv.HTTPRouteKey: "/hooks/{tenant}/twilio", semconv.URLPathKey: "/hooks/7/twilio",
			semconv.HTTPResponseStatusCodeKey: itoa(c.code), telemetry.ProviderKey: "twilio", telemetry.OutcomeKey: c.outcome,
		} {
			if got := telemetrytest.Str(s, k); got != want {
				t.Errorf("%v: %s = %q, want %q", c.err, k, got, want)
			}
		}
		if failed := s.Status().Code == codes.Error; failed != (c.code >= 500) {
			t.Errorf("%v: span status %v for %d", c.err, s.Status(), c.code)
		}
		if c.code >= 500 && telemetrytest.Str(s, semconv.ErrorTypeKey) != "500" {
			t.Errorf("error.type = %q, want 500", telemetrytest.Str(s, semconv.ErrorTypeKey))
		}
		kids := rec.Children(s)
		if c.sig != (len(kids) == 1) {
			t.Errorf("%v: %d children of the request span", c.err, len(kids))
		}
		n, _ := rec.Histogram(t, DurationMetric, telemetry.ProviderKey.String("twilio"),
			semconv.HTTPResponseStatusCodeKey.Int(c.code), telemetry.OutcomeKey.String(c.outcome))
		if n != 1 {
			t.Errorf("%v: %s{code=%d, outcome=%s} counted %d requests, want 1", c.err, DurationMetric, c.code, c.outcome, n)
		}
	}
	if n, _ := rec.Histogram(t, DurationMetric); n != 5 {
		t.Errorf("%s counted %d requests in all, want 5", DurationMetric, n)
	}
}

// TestTelemetryUnderHostSpan: under a span the host's own middleware
// started (otelhttp's server span), the handler's span is an internal
// child of it, not a second server span.
func TestTelemetryUnderHostSpan(t *testing.T) {
	rec := telemetrytest.New(t)
	tel := NewTelemetry("email", "test/webhook", rec.TracerProvider, rec.MeterProvider)
	ctx, host := rec.TracerProvider.Tracer("host").Start(context.Background(), "POST", trace.WithSpanKind(trace.SpanKindServer))
	req := httptest.NewRequest(http.MethodPost, "/inbound", nil).WithContext(ctx)
	req.Header.Set("X-Sig", "ok")
	hook(tel, nil, rec.TracerProvider.Tracer("test/receiver")).ServeHTTP(httptest.NewRecorder(), req)
	host.End()
	s := rec.Named("POST")
	if len(s) != 2 {
		t.Fatalf("%d spans named POST (no route: the method alone), want the host's and the handler's", len(s))
	}
	h := s[0]
	if h.SpanKind() != trace.SpanKindInternal || h.Parent().SpanID() != host.SpanContext().SpanID() {
		t.Errorf("handler span kind %v, parent %v: want internal, child of the host's span", h.SpanKind(), h.Parent())
	}
}

func TestRoute(t *testing.T) {
	for pattern, want := range map[string]string{
		"": "", "/hooks/twilio": "/hooks/twilio", "POST /hooks/{id}": "/hooks/{id}",
		"example.com/hooks/": "/hooks/", "GET example.com/x": "/x",
	} {
		if got := route(pattern); got != want {
			t.Errorf("route(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func itoa(n int) string {
	return attribute.IntValue(n).Emit()
}
