package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/parleyhq/parley/channel"
)

// Issue 16: error.type is a short, stable name for the channel's
// sentinels and the context's errors, however deeply wrapped, "" for no
// error and "_OTHER" for anything else, so that it can be a metric
// attribute.
func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("twilio: send: %w", context.Canceled), "canceled"},
		{fmt.Errorf("twilio: %w: 21610", channel.ErrOptedOut), "opted_out"},
		{fmt.Errorf("whatsapp: %w", channel.ErrWindowClosed), "window_closed"},
		{fmt.Errorf("fcm: %w", channel.ErrAddressRetired), "address_retired"},
		{fmt.Errorf("x: %w", fmt.Errorf("y: %w", channel.ErrTransient)), "transient"},
		{fmt.Errorf("x: %w", channel.ErrPermanent), "permanent"},
		{errors.New("something else"), "_OTHER"},
	} {
		if got := ErrorType(c.err); got != c.want {
			t.Errorf("ErrorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// Issue 16: a Set builds each combination's attributes once — later
// measurements with it allocate nothing — and the measurements carry
// them; it is safe for concurrent use.
func TestSet(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	c := Counter(Meter(mp, "test"), "test.count", "{x}", "a test counter")
	var set Set[channel.Kind]
	built := 0
	attrs := func(k channel.Kind) func() []attribute.KeyValue {
		return func() []attribute.KeyValue { built++; return []attribute.KeyValue{Channel(k)} }
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Add(ctx, 1, set.Get(channel.SMS, attrs(channel.SMS)).Add...)
			}
		})
	}
	wg.Wait()
	if built != 1 { // counted under the Set's lock, read after Wait
		t.Errorf("the SMS attributes were built %d times, want once", built)
	}
	sms := attrs(channel.SMS)
	if allocs := testing.AllocsPerRun(100, func() { c.Add(ctx, 1, set.Get(channel.SMS, sms).Add...) }); allocs != 0 {
		t.Errorf("a measurement with a cached set allocates %v times, want 0", allocs)
	}
	c.Add(ctx, 1, set.Get(channel.Email, attrs(channel.Email)).Add...)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, p := range rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := p.Attributes.Value(ChannelKey)
		got[v.AsString()] += p.Value
	}
	if got["sms"] != 800+101 || got["email"] != 1 {
		t.Errorf("points %v, want sms 901 (800, the 100 runs and AllocsPerRun's warm-up), email 1", got)
	}
}
