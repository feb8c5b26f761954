package inbox

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// T20 (issues 16, 18): decodeEvent reads any record as encoding/json reads
// it into wireEvent — the same event, or an error when json refuses it —
// whether it takes the hand-written way or json's.
func FuzzDecodeEvent(f *testing.F) {
	at := time.Date(2026, 11, 30, 19, 0, 0, 123456789, time.UTC)
	for _, e := range []Event{
		{Type: EventStatusChanged, ThreadID: "t1", MessageID: "m1", DeliveryID: "d1", ProviderID: "SM1", Status: status.Delivered, At: at},
		{Type: EventTyping, ThreadID: "t1", Agent: "léa", At: at, ExpiresAt: at.Add(time.Minute).In(time.FixedZone("x", 5400))},
		{Type: EventOptedOut, Kind: channel.SMS, Address: "+33612345678", At: at},
		{Type: EventMessageReceived, ThreadID: "q\"uote\\", At: at},
	} {
		b, err := encodeEvent(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"type":"nope","at":"2026-11-30T19:00:00Z"}`, `{"Type":"thread-started","at":"2026-11-30T19:00:00Z"}`,
		`{"type":"thread-started","type":"message-sent","at":"2026-11-30T19:00:00Z","at":"2026-11-30T20:00:00+02:00"}`,
		`{"type":"status-changed","status":"","at":"2026-11-30T19:00:00Z"}`, `{"type":"status-changed","kind":"fax","at":"2026-11-30T19:00:00Z"}`,
		`{"type":"thread-started","at":"2026-11-30T24:00:00Z"}`, `{"type":"thread-started","thread":"\xff","at":"2026-11-30T19:00:00Z"}`,
		` {"type":"thread-started","at":"2026-11-30T19:00:00Z"} `, `{"type":"thread-started","at":null}`, `{"type":"thread-started","at":"2026-11-30T19:00:00Z"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeEvent(b)
		want, werr := decodeJSON(b)
		if (err != nil) != (werr != nil) {
			t.Fatalf("%q: decodeEvent error %v, json's %v", b, err, werr)
		}
		if err != nil {
			return
		}
		if !sameEvent(got, want) {
			t.Fatalf("%q: decodeEvent = %+v\njson's = %+v", b, got, want)
		}
	})
}

// sameEvent compares events whose times may hold distinct but equal zones.
func sameEvent(a, b Event) bool {
	same := func(x, y time.Time) bool {
		xn, xo := x.Zone()
		yn, yo := y.Zone()
		return x.Equal(y) && xn == yn && xo == yo && x.IsZero() == y.IsZero()
	}
	if !same(a.At, b.At) || !same(a.ExpiresAt, b.ExpiresAt) {
		return false
	}
	a.At, a.ExpiresAt, b.At, b.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// Issue 18: the events the inbox writes are read the hand-written way, in
// one allocation (the copy of the record the texts are substrings of).
func TestDecodeEventOwnRecords(t *testing.T) {
	at := time.Date(2026, 11, 30, 19, 0, 0, 123456789, time.UTC)
	e := Event{Type: EventStatusChanged, ThreadID: "id000000002", MessageID: "id000000003", DeliveryID: "id000000005",
		ProviderID: "SM123", Kind: channel.SMS, Status: status.Delivered, At: at, ExpiresAt: at.Add(time.Hour)}
	b, err := encodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decodeFast(b)
	if !ok || !sameEvent(got, e) {
		t.Fatalf("decodeFast(%s) = %+v, %v; want %+v", b, got, ok, e)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeEvent(b) }); n > 1 {
		t.Fatalf("%v allocations per event read, want 1", n)
	}
}

// BenchmarkDecodeEvent reads a status event as every subscribed instance
// reads each event of the feed, beside encoding/json's reading of it (the
// way before issue 18) as its baseline.
func BenchmarkDecodeEvent(b *testing.B) {
	at := time.Date(2026, 11, 30, 19, 0, 0, 123456789, time.UTC)
	data, err := encodeEvent(Event{Type: EventStatusChanged, ThreadID: "01jdx3k5q8w2e4r6t8y0u2i4o6", MessageID: "01jdx3k5q8w2e4r6t8y0u2i4o7",
		DeliveryID: "01jdx3k5q8w2e4r6t8y0u2i4o8", ProviderID: "SM0123456789abcdef0123456789abcdef", Status: status.Delivered, At: at})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func([]byte) (Event, error)
	}{{"decodeEvent", decodeEvent}, {"json", decodeJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
