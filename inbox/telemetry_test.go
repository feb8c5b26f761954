package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/otelchannel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/internal/telemetrytest"
	"github.com/parleyhq/parley/status"
)

func tracedRig(t *testing.T, rec *telemetrytest.Recorder, opts inbox.Options) *rig {
	t.Helper()
	opts.TracerProvider, opts.MeterProvider = rec.TracerProvider, rec.MeterProvider
	return newRig(t, opts, nil)
}

func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[attribute.Key]string) {
	t.Helper()
	for k, v := range want {
		if got := telemetrytest.Str(s, k); got != v {
			t.Errorf("span %s: %s = %q, want %q", s.Name(), k, got, v)
		}
	}
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func kindStatus(k channel.Kind, s status.Status) []attribute.KeyValue {
	return []attribute.KeyValue{telemetry.ChannelKey.String(k.String()), telemetry.StatusKey.String(s.String())}
}

// M2, S1, S2 (issue 16): a group send is a producer span "send sms" with
// one "deliver sms" child per delivery (M2), each carrying its IDs, the
// status it reached, its attempts and, when it failed, the error's type;
// store calls are children of the operation that made them. The metrics
// count every delivery in each status it entered (S1, S2), the send
// latency by outcome and the retries of transient failures.
func TestTelemetrySendFanOut(t *testing.T) {
	rec := telemetrytest.New(t)
	r := tracedRig(t, rec, inbox.Options{})
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	tries := map[string]int{}
	r.fakes[channel.SMS].FailWhen(func(m *channel.Message) error {
		tries[m.To]++
		switch {
		case m.To == ben.Phone:
			return channeltest.Permanent("unreachable number")
		case tries[m.To] == 1:
			return channeltest.Transient("provider busy")
		}
		return nil
	})
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Class moved to 6pm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 2 {
		t.Fatalf("%d deliveries, want ana's and ben's (cleo has no phone)", len(res.Deliveries))
	}
	sends := rec.Named("send sms")
	if len(sends) != 1 {
		t.Fatalf("%d send spans, want 1", len(sends))
	}
	send := sends[0]
	if send.SpanKind() != trace.SpanKindProducer || send.Status().Code == codes.Error {
		t.Errorf("send span: kind %v status %v", send.SpanKind(), send.Status())
	}
	wantAttrs(t, send, map[attribute.Key]string{semconv.MessagingSystemKey: "parley", semconv.MessagingOperationNameKey: "send",
		semconv.MessagingOperationTypeKey: "send", semconv.MessagingDestinationNameKey: "sms", telemetry.ChannelKey: "sms",
		telemetry.ThreadIDKey: yoga.ID, telemetry.MessageIDKey: res.Message.ID, semconv.MessagingBatchMessageCountKey: "2"})

	delivers := named(rec.Children(send), "deliver sms")
	if len(delivers) != 2 {
		t.Fatalf("%d deliver spans under the send span, want 2", len(delivers))
	}
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range delivers {
		byID[telemetrytest.Str(s, telemetry.DeliveryIDKey)] = s
	}
	for _, d := range res.Deliveries {
		s, ok := byID[d.ID]
		if !ok {
			t.Fatalf("no deliver span for delivery %s", d.ID)
		}
		wantAttrs(t, s, map[attribute.Key]string{telemetry.ThreadIDKey: yoga.ID, telemetry.MessageIDKey: res.Message.ID,
			telemetry.StatusKey: d.Status.Current.String(), telemetry.ChannelKey: "sms"})
		switch d.ContactID {
		case "ana":
			wantAttrs(t, s, map[attribute.Key]string{telemetry.AttemptsKey: "2", telemetry.ProviderIDKey: d.ProviderID,
				telemetry.StatusKey: "validated"})
			if s.Status().Code == codes.Error || len(s.Events()) != 1 {
				t.Errorf("ana's delivery: status %v, %d events; want unset and one failed attempt", s.Status(), len(s.Events()))
			}
		case "ben":
			wantAttrs(t, s, map[attribute.Key]string{telemetry.StatusKey: "failed", semconv.ErrorTypeKey: "permanent"})
			if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "unreachable") {
				t.Errorf("ben's delivery: span status %v, want Error with the provider's reason", s.Status())
			}
		}
		var writes int
		for _, c := range rec.Children(s) {
			if c.Name() == "store.WriteDelivery" {
				writes++
			}
		}
		if writes < 2 {
			t.Errorf("delivery %s: %d store.WriteDelivery children, want the outbox mark and the outcome", d.ContactID, writes)
		}
	}
	if len(named(rec.Children(send), "store.WriteThread")) == 0 {
		t.Error("recording the message (store.WriteThread) is not a child of the send span")
	}

	for _, c := range []struct {
		st   status.Status
		want int64
	}{{status.Pending, 2}, {status.Validated, 1}, {status.Failed, 1}, {status.Delivered, 0}} {
		if n := rec.Sum(t, "parley.deliveries", kindStatus(channel.SMS, c.st)...); n != c.want {
			t.Errorf("parley.deliveries{sms, %s} = %d, want %d", c.st, n, c.want)
		}
	}
	if n, _ := rec.Histogram(t, "parley.send.duration", kindStatus(channel.SMS, status.Validated)...); n != 1 {
		t.Errorf("parley.send.duration{sms, validated} counted %d, want 1", n)
	}
	if n, _ := rec.Histogram(t, "parley.send.duration", append(kindStatus(channel.SMS, status.Failed), semconv.ErrorTypeKey.String("permanent"))...); n != 1 {
		t.Errorf("parley.send.duration{sms, failed, permanent} counted %d, want 1", n)
	}
	if n := rec.Sum(t, "parley.send.retries", telemetry.ChannelKey.String("sms"), semconv.ErrorTypeKey.String("transient")); n != 1 {
		t.Errorf("parley.send.retries{sms, transient} = %d, want 1", n)
	}

	// the provider's reports: one "status sms" span each; the counter
	// follows the delivery up (S2), a duplicate counts nothing
	updates := r.fakes[channel.SMS].Flush()
	if len(updates) == 0 {
		t.Fatal("the fake reported no status")
	}
	for _, u := range append(updates, updates...) {
		if err := r.in.ApplyStatus(r.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	statuses := rec.Named("status sms")
	if len(statuses) != 2*len(updates) {
		t.Fatalf("%d status spans, want %d", len(statuses), 2*len(updates))
	}
	ana := res.Deliveries[slices.IndexFunc(res.Deliveries, func(d inbox.Delivery) bool { return d.ContactID == "ana" })]
	for _, s := range statuses {
		if s.SpanKind() != trace.SpanKindConsumer || telemetrytest.Str(s, telemetry.DeliveryIDKey) != ana.ID {
			t.Errorf("status span: kind %v delivery %q, want consumer, %s", s.SpanKind(), telemetrytest.Str(s, telemetry.DeliveryIDKey), ana.ID)
		}
	}
	for _, u := range updates {
		if n := rec.Sum(t, "parley.deliveries", kindStatus(channel.SMS, u.Status)...); n != 1 {
			t.Errorf("parley.deliveries{sms, %s} = %d after the report and its duplicate, want 1", u.Status, n)
		}
	}
}

// S1 (issue 16): the channel middleware's provider calls are children of
// the inbox's delivery span, one per attempt.
func TestTelemetryMiddlewareUnderDelivery(t *testing.T) {
	rec := telemetrytest.New(t)
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
	fake.FailNext(channeltest.Transient("busy"))
	reg := channel.NewRegistry()
	mw := otelchannel.Middleware(otelchannel.Options{Provider: "fake", TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider})
	if err := reg.Register(channel.SMS, channel.Chain(fake, mw), channel.Config{}); err != nil {
		t.Fatal(err)
	}
	in, err := inbox.New(memstore.New(), inbox.Options{Channels: reg, TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider,
		Retry: inbox.Retry{Attempts: 2, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	th, err := in.Start(ctx, inbox.AddressSubject(channel.SMS, "+33612345678"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	delivers := rec.Named("deliver sms")
	if len(delivers) != 1 {
		t.Fatalf("%d deliver spans, want 1", len(delivers))
	}
	submits := named(rec.Children(delivers[0]), "submit sms")
	if len(submits) != 2 || submits[0].Status().Code != codes.Error || submits[1].Status().Code == codes.Error {
		t.Fatalf("%d submit spans under the delivery, want a failed attempt then an accepted one", len(submits))
	}
}

// M5, R5 (issue 16): a received message is a consumer span "receive sms"
// carrying the provider's ID and the thread and message it was stored as;
// its store calls are its children; a duplicate (M5) is the same message;
// input that can never be stored fails its span with its error.type.
func TestTelemetryReceive(t *testing.T) {
	rec := telemetrytest.New(t)
	r := tracedRig(t, rec, inbox.Options{})
	m, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ana.Phone, Text: "Is the 6pm class on?", ProviderID: "SM1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ana.Phone, Text: "Is the 6pm class on?", ProviderID: "SM1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.in.Receive(r.ctx, channel.Inbound{Kind: channel.SMS, Text: "no sender"}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("a message without a sender: %v", err)
	}
	spans := rec.Named("receive sms")
	if len(spans) != 3 {
		t.Fatalf("%d receive spans, want 3", len(spans))
	}
	for _, s := range spans[:2] {
		if s.SpanKind() != trace.SpanKindConsumer || s.Parent().IsValid() || s.Status().Code == codes.Error {
			t.Errorf("receive span: kind %v parent %v status %v", s.SpanKind(), s.Parent(), s.Status())
		}
		wantAttrs(t, s, map[attribute.Key]string{semconv.MessagingOperationTypeKey: "process", telemetry.ProviderIDKey: "SM1",
			telemetry.ThreadIDKey: m.ThreadID, telemetry.MessageIDKey: m.ID})
	}
	if w := named(rec.Children(spans[0]), "store.WriteThread"); len(w) != 2 || w[1].Status().Code == codes.Error {
		t.Errorf("the first receive: %d store.WriteThread children, want the new thread's and the message's", len(w))
	}
	// the duplicate: the store refuses the message's write (M5), the inbox
	// returns the one it holds; the receive itself did not fail
	w := named(rec.Children(spans[1]), "store.WriteThread")
	if len(w) != 1 || telemetrytest.Str(w[0], semconv.ErrorTypeKey) != "duplicate" || len(named(rec.Children(spans[1]), "store.MessageByProviderID")) != 1 {
		t.Errorf("the duplicate: %d store.WriteThread, want one refused as a duplicate, then the lookup of the stored one", len(w))
	}
	if bad := spans[2]; bad.Status().Code != codes.Error || telemetrytest.Str(bad, semconv.ErrorTypeKey) != "invalid_message" {
		t.Errorf("invalid message span: status %v error.type %q", bad.Status(), telemetrytest.Str(bad, semconv.ErrorTypeKey))
	}
}

// T3 (issue 16): store calls get spans inside a recording span only — the
// host's own, here — so a query with no trace around it makes no root
// span; a lookup that finds nothing is an answer, not an error.
func TestTelemetryStoreSpansNeedAParent(t *testing.T) {
	rec := telemetrytest.New(t)
	r := tracedRig(t, rec, inbox.Options{})
	th := r.thread(contactT("ana"))
	before := len(rec.Spans())
	if _, err := r.in.Thread(r.ctx, th.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Spans()); n != before {
		t.Fatalf("%d spans for a query outside any trace, want none", n-before)
	}
	ctx, host := rec.TracerProvider.Tracer("host").Start(r.ctx, "GET /threads/{id}")
	if _, err := r.in.Thread(ctx, th.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.Thread(ctx, "missing"); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("missing thread: %v", err)
	}
	host.End()
	hostSpan := rec.Named("GET /threads/{id}")[0]
	reads := named(rec.Children(hostSpan), "store.Thread")
	if len(reads) != 2 {
		t.Fatalf("%d store.Thread spans under the host's span, want 2", len(reads))
	}
	wantAttrs(t, reads[0], map[attribute.Key]string{semconv.DBOperationNameKey: "Thread", telemetry.ThreadIDKey: th.ID})
	if reads[1].Status().Code == codes.Error || telemetrytest.Str(reads[1], "parley.found") != "false" {
		t.Errorf("not found: status %v, parley.found %q; want unset, false", reads[1].Status(), telemetrytest.Str(reads[1], "parley.found"))
	}
}

// C8 (issue 16): each RunDispatcher round is a trace of its own, linked to
// the caller's span, with Recover and Dispatch under it and the
// deliveries under Dispatch; parley.dispatch.lag measures how late each
// due delivery went by the inbox's clock.
func TestTelemetryDispatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := telemetrytest.New(t)
		r := tracedRig(t, rec, inbox.Options{})
		yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
		due := t0.Add(time.Hour)
		if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Rappel", ScheduledFor: due}); err != nil {
			t.Fatal(err)
		}
		r.clock.Set(due.Add(90 * time.Second))
		ctx, caller := rec.TracerProvider.Tracer("host").Start(r.ctx, "main")
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- r.in.RunDispatcher(ctx, time.Hour) }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("RunDispatcher = %v", err)
		}
		caller.End()

		rounds := rec.Named("inbox.RunDispatcher")
		if len(rounds) != 1 {
			t.Fatalf("%d rounds, want 1", len(rounds))
		}
		round := rounds[0]
		if round.Parent().IsValid() || len(round.Links()) != 1 || round.Links()[0].SpanContext.SpanID() != caller.SpanContext().SpanID() {
			t.Errorf("round: parent %v, links %v; want a root linked to the caller's span", round.Parent(), round.Links())
		}
		kids := rec.Children(round)
		if len(named(kids, "inbox.Recover")) != 1 || len(named(kids, "inbox.Dispatch")) != 1 {
			t.Fatalf("round children: %d spans, want Recover and Dispatch", len(kids))
		}
		dispatch := named(kids, "inbox.Dispatch")[0]
		wantAttrs(t, dispatch, map[attribute.Key]string{telemetry.CountKey: "2"})
		if n := len(named(rec.Children(dispatch), "deliver sms")); n != 2 {
			t.Errorf("%d deliveries under Dispatch, want 2", n)
		}
		n, sum := rec.Histogram(t, "parley.dispatch.lag", telemetry.ChannelKey.String("sms"))
		if n != 2 || sum != 180 {
			t.Errorf("parley.dispatch.lag: %d deliveries, %v s in all; want 2, 180 (90 s late each)", n, sum)
		}
		if n := rec.Sum(t, "parley.deliveries", kindStatus(channel.SMS, status.Scheduled)...); n != 2 {
			t.Errorf("parley.deliveries{sms, scheduled} = %d, want 2", n)
		}
		if n := rec.Sum(t, "parley.deliveries", kindStatus(channel.SMS, status.Validated)...); n != 2 {
			t.Errorf("parley.deliveries{sms, validated} = %d, want 2", n)
		}
	})
}

// T20 (issue 16): the events a slow subscriber misses are counted in
// parley.events.missed, as the subscription itself counts them; a
// subscriber that resumes after an event the feed no longer holds (an SSE
// client back after a disconnect longer than EventRetention) lost events
// for good: it gets EventResync, counted in parley.events.resyncs. A
// subscriber that resumes within the feed — in the inbox's memory or only
// in the store — loses nothing and counts in neither.
func TestTelemetryEventsMissed(t *testing.T) {
	rec := telemetrytest.New(t)
	var clock sync.Mutex // the inbox's tailing goroutine reads the time too
	now := t0
	ib, publish := newEventInbox(t, inbox.Options{TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider,
		EventHistory: 4, EventRetention: time.Hour, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }})
	ctx := context.Background()
	first := ib.LastEventSeq()
	sub := ib.SubscribeWith(ctx, inbox.SubscribeOptions{Buffer: 1})
	for range 4 {
		publish()
	}
	if sub.Missed() != 3 {
		t.Fatalf("the subscription missed %d, want 3", sub.Missed())
	}
	if n := rec.Sum(t, "parley.events.missed"); n != 3 {
		t.Errorf("parley.events.missed = %d, want 3", n)
	}
	if e := <-ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: first + 2}).C(); e.Type == inbox.EventResync {
		t.Fatalf("resuming within the history: %v", e.Type)
	}
	for range 4 {
		publish()
	}
	if e := <-ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: first + 2}).C(); e.Type == inbox.EventResync {
		t.Fatalf("resuming within the store's feed, past the inbox's memory: %v", e.Type)
	}
	if n := rec.Sum(t, "parley.events.resyncs"); n != 0 {
		t.Errorf("parley.events.resyncs = %d after resuming within the feed, want 0", n)
	}
	clock.Lock()
	now = now.Add(time.Hour + time.Minute)
	clock.Unlock()
	publish()
	if _, err := ib.PruneEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if e := <-ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: first + 2}).C(); e.Type != inbox.EventResync {
		t.Fatalf("resuming after a pruned event: %v, want resync", e.Type)
	}
	if n := rec.Sum(t, "parley.events.resyncs"); n != 1 {
		t.Errorf("parley.events.resyncs = %d, want 1", n)
	}
	if n := rec.Sum(t, "parley.events.missed"); n != 3+4+1 {
		t.Errorf("parley.events.missed = %d, want 8 (the first subscriber is still not reading)", n)
	}
}

// S4 (issue 16): the inbox logs nothing unless the host gives it a
// Logger: a status for a message no delivery has is logged to
// Options.Logger, and never to slog's default logger.
func TestLoggerSilentByDefault(t *testing.T) {
	var global, mine bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&global, nil)))
	defer slog.SetDefault(prev)
	u := channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SMunknown", Status: status.Delivered}
	for _, logger := range []*slog.Logger{nil, slog.New(slog.NewTextHandler(&mine, nil))} {
		in, err := inbox.New(memstore.New(), inbox.Options{StatusWait: -1, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := in.ApplyStatus(context.Background(), u); !errors.Is(err, channel.ErrUnknownMessage) {
			t.Fatalf("unknown status: %v", err)
		}
	}
	if global.Len() != 0 {
		t.Errorf("the inbox wrote to slog's default logger: %s", global.String())
	}
	if !strings.Contains(mine.String(), "SMunknown") {
		t.Errorf("Options.Logger got %q, want the unknown status", mine.String())
	}
}

// spanHandler is a slog.Handler that keeps the span context of each
// record's context, as an OpenTelemetry log bridge reads it.
type spanHandler struct {
	slog.Handler
	spans *[]trace.SpanContext
}

func (h spanHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h spanHandler) Handle(ctx context.Context, r slog.Record) error {
	*h.spans = append(*h.spans, trace.SpanContextFromContext(ctx))
	return nil
}

// S4 (issue 16): the inbox's log records carry the context of the
// operation that logs them, so a handler that reads trace context from
// it ties each record to its span: the warning about a status for an
// unknown message belongs to that report's "status sms" span.
func TestLoggerRecordsCarryTheSpan(t *testing.T) {
	rec := telemetrytest.New(t)
	var logged []trace.SpanContext
	logger := slog.New(spanHandler{Handler: slog.DiscardHandler, spans: &logged})
	in, err := inbox.New(memstore.New(), inbox.Options{StatusWait: -1, Logger: logger,
		TracerProvider: rec.TracerProvider, MeterProvider: rec.MeterProvider})
	if err != nil {
		t.Fatal(err)
	}
	u := channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SMunknown", Status: status.Delivered}
	if err := in.ApplyStatus(context.Background(), u); !errors.Is(err, channel.ErrUnknownMessage) {
		t.Fatalf("unknown status: %v", err)
	}
	spans := rec.Named("status sms")
	if len(logged) != 1 || len(spans) != 1 {
		t.Fatalf("%d records, %d status spans; want 1 and 1", len(logged), len(spans))
	}
	if got, want := logged[0], spans[0].SpanContext(); got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() {
		t.Errorf("the record's span is %v/%v, want the status span %v/%v", got.TraceID(), got.SpanID(), want.TraceID(), want.SpanID())
	}
}

// M2, S1 (issue 16): with an SDK that does not sample a send (the
// default parent-based sampler under an unsampled caller, or a ratio
// sampler's miss), no span of it is recorded — neither the send's nor
// its deliveries' nor their store calls' — yet every metric still counts
// it: metrics do not depend on sampling.
func TestTelemetryUnsampledSendStillMeasured(t *testing.T) {
	rec := telemetrytest.NewSampled(t, sdktrace.ParentBased(sdktrace.NeverSample()))
	r := tracedRig(t, rec, inbox.Options{})
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Class moved to 6pm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 2 {
		t.Fatalf("%d deliveries, want 2", len(res.Deliveries))
	}
	if spans := rec.Spans(); len(spans) != 0 {
		t.Errorf("%d spans recorded (the first: %s), want none", len(spans), spans[0].Name())
	}
	if n := rec.Sum(t, "parley.deliveries", kindStatus(channel.SMS, status.Validated)...); n != 2 {
		t.Errorf("parley.deliveries{sms, validated} = %d, want 2", n)
	}
	if n, _ := rec.Histogram(t, "parley.send.duration", kindStatus(channel.SMS, status.Validated)...); n != 2 {
		t.Errorf("parley.send.duration{sms, validated} counted %d, want 2", n)
	}
}
