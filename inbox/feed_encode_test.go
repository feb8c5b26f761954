package inbox

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// The feed's event encoding (T20, issue 16) writes what encoding/json
// writes for wireEvent: both decode to the same JSON value and the same
// Event, for any text — quotes, control characters, invalid UTF-8, HTML
// characters — and invalid kinds, statuses and years are refused as
// json.Marshal refuses them.
func FuzzEncodeEvent(f *testing.F) {
	f.Add(uint8(EventStatusChanged), "t1", "m1", "d1", "SM\"x\\y\n\t\r\x00\x1f<>&\u2028", "léa", uint8(channel.SMS), "+33612345678", uint8(status.Delivered), int64(1_700_000_000_123_456_789), int64(0))
	f.Add(uint8(EventTyping), "", "", "", "", "\xff\xfeagent", uint8(0), "", uint8(0), int64(0), int64(1_700_000_000_000_000_000))
	f.Add(uint8(EventDeviceRetired), "th", "", "", "", "", uint8(200), "tok", uint8(0), int64(-62_135_596_800_000_000_0), int64(0))
	f.Add(uint8(EventMessageReceived), "", "", "", "", "", uint8(0), "", uint8(99), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, typ uint8, thread, message, delivery, provider, agent string, kind uint8, address string, st uint8, at, expires int64) {
		e := Event{Type: EventType(typ % uint8(len(eventNames))), ThreadID: thread, MessageID: message, DeliveryID: delivery,
			ProviderID: provider, Agent: agent, Kind: channel.Kind(kind), Address: address, Status: status.Status(st),
			At: time.Unix(0, at).UTC()}
		if expires != 0 {
			e.ExpiresAt = time.Unix(0, expires).In(time.FixedZone("x", 5400))
		}
		got, err := encodeEvent(e)
		want, werr := json.Marshal(wireEvent{Type: e.Type.String(), ThreadID: e.ThreadID, MessageID: e.MessageID,
			DeliveryID: e.DeliveryID, ProviderID: e.ProviderID, Agent: e.Agent, Kind: e.Kind, Address: e.Address,
			Status: e.Status, At: e.At, ExpiresAt: e.ExpiresAt})
		if (err != nil) != (werr != nil) {
			t.Fatalf("encodeEvent error %v, json.Marshal error %v", err, werr)
		}
		if err != nil {
			return
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("encodeEvent wrote invalid JSON %q: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("encodeEvent = %s\njson.Marshal = %s", got, want)
		}
		if e.Type == 0 {
			return // no name: decodeEvent refuses both alike
		}
		de, err := decodeEvent(got)
		if err != nil {
			t.Fatal(err)
		}
		dw, err := decodeEvent(want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(de, dw) {
			t.Fatalf("decoded %+v, want %+v", de, dw)
		}
	})
}

// One allocation per event: the buffer.
func TestEncodeEventAllocatesOnce(t *testing.T) {
	e := Event{Type: EventStatusChanged, ThreadID: "06h2v0xwh3d3jshjdxd2evdra8", MessageID: "06h2v0xwh3d3jshjdxd2evdra9",
		DeliveryID: "06h2v0xwh3d3jshjdxd2evdraa", ProviderID: "SM0123456789abcdef", Status: status.Delivered,
		At: time.Date(2026, 11, 30, 18, 0, 0, 123456789, time.UTC)}
	if n := testing.AllocsPerRun(100, func() { _, _ = encodeEvent(e) }); n > 1 {
		t.Fatalf("encodeEvent allocates %v times, want 1", n)
	}
}

// TestEventNamesPlain: appendEvent writes the names of event types, kinds
// and statuses without escaping them, which holds while none needs it.
func TestEventNamesPlain(t *testing.T) {
	var names []string
	for e := range len(eventNames) + 1 {
		names = append(names, EventType(e).String())
	}
	for k := range 256 {
		if kind := channel.Kind(k); kind.Valid() {
			names = append(names, kind.String())
		}
	}
	for s := range 256 {
		if st := status.Status(s); st.Valid() {
			names = append(names, st.String())
		}
	}
	for _, n := range names {
		if got, want := string(appendJSONString(nil, n)), `"`+n+`"`; got != want {
			t.Errorf("name %q is encoded %s, want %s", n, got, want)
		}
	}
}
