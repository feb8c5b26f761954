package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/internal/telemetry"
)

// DurationMetric is the name of the webhook request duration histogram.
const DurationMetric = "parley.webhook.request.duration"

// The parley.webhook.outcome of a request that handed no item to the
// Receiver: Rejected when it was refused (a bad signature, a malformed
// body, a wrong method: a 4xx answer), None otherwise (a verification
// handshake, a notification without messages or statuses).
const (
	Rejected = "rejected"
	None     = "none"
)

// Telemetry traces and measures the requests of one provider's webhook
// handler (see Serve). It is safe for concurrent use.
type Telemetry struct {
	provider string
	tracer   trace.Tracer
	duration metric.Float64Histogram
	opts     telemetry.Set[requestKey]
}

type requestKey struct {
	method  string
	code    int
	outcome string
}

// NewTelemetry returns the Telemetry of the webhook handler of provider
// ("twilio"), instrumented under scope (the handler's import path), with
// the host's providers, or the otel global ones when nil.
func NewTelemetry(provider, scope string, tp trace.TracerProvider, mp metric.MeterProvider) *Telemetry {
	m := telemetry.Meter(mp, scope)
	return &Telemetry{provider: provider, tracer: telemetry.Tracer(tp, scope),
		duration: telemetry.Histogram(m, DurationMetric, "s",
			"Duration of the webhook requests of a provider, by HTTP status code and outcome.", telemetry.DurationBounds())}
}

// Serve calls serve for one request inside its span, then records the
// answer's status code and the outcome serve noted (Note) on the span and
// in the duration histogram.
//
// The span follows the semantic conventions of HTTP server spans: it is
// named after the request's method and the route the host mounted the
// handler on (r.Pattern, set by http.ServeMux), "POST /hooks/twilio", or
// the method alone; 5xx answers mark it as failed. It is a server span
// whose parent is the trace context the request carries (the otel global
// propagator reads it), unless the request's context already holds a span
// of the host (an otelhttp middleware's): then it is an internal span
// under it.
func (t *Telemetry) Serve(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	start := time.Now()
	ctx := r.Context()
	kind := trace.SpanKindInternal
	if !trace.SpanContextFromContext(ctx).IsValid() {
		kind = trace.SpanKindServer
		ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	method := knownMethod(r.Method)
	route := route(r.Pattern)
	name := method
	if method == "_OTHER" {
		name = "HTTP"
	}
	if route != "" {
		name += " " + route
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(kind))
	defer span.End()
	if span.IsRecording() {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLPathKey.String(r.URL.Path),
			semconv.URLSchemeKey.String(scheme), telemetry.ProviderKey.String(t.provider))
		if route != "" {
			span.SetAttributes(semconv.HTTPRouteKey.String(route))
		}
		if method != r.Method {
			span.SetAttributes(semconv.HTTPRequestMethodOriginalKey.String(r.Method))
		}
	}
	rec := &recorder{ResponseWriter: w}
	serve(rec, r.WithContext(ctx))
	code := rec.code
	if code == 0 {
		code = http.StatusOK // nothing written: net/http answers 200
	}
	outcome := None
	switch {
	case rec.noted:
		outcome = rec.outcome.String()
	case code >= 400:
		outcome = Rejected
	}
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(code), telemetry.OutcomeKey.String(outcome))
		if code >= 500 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(code)))
			span.SetStatus(codes.Error, http.StatusText(code))
		}
	}
	if t.duration.Enabled(ctx) {
		opt := t.opts.Get(requestKey{method, code, outcome}, func() []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.ProviderKey.String(t.provider), semconv.HTTPRequestMethodKey.String(method),
				semconv.HTTPResponseStatusCodeKey.Int(code), telemetry.OutcomeKey.String(outcome)}
		})
		t.duration.Record(ctx, time.Since(start).Seconds(), opt.Record...)
	}
}

// Note records the outcome of the items a request handed to the Receiver
// (for a batch, its worst: Batch.Outcome) on the response writer Serve
// gave the handler; the worst noted wins. It does nothing on another
// writer.
func Note(w http.ResponseWriter, o Outcome) {
	if rec, ok := w.(*recorder); ok && (!rec.noted || o > rec.outcome) {
		rec.outcome, rec.noted = o, true
	}
}

// recorder keeps the status code a handler answered and the outcome it
// noted.
type recorder struct {
	http.ResponseWriter
	code    int
	outcome Outcome
	noted   bool
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// knownMethod returns the method when the semantic conventions know it,
// "_OTHER" otherwise, so that the attribute keeps few values.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// route returns the path of a ServeMux pattern ("[METHOD ][HOST]/[PATH]"),
// "" for no pattern.
func route(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimLeft(p, " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	if !strings.HasPrefix(pattern, "/") {
		return ""
	}
	return pattern
}
