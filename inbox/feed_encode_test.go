package inbox

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

// T20: appendEvent writes the names of event types, kinds
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

// T20: the time of an event is written as time.RFC3339Nano formats it whether
// the eventBuf's secondText holds its second or not: times drawn in bursts
// within a second and across seconds, in UTC, fixed zones (one with
// seconds in its offset), a zone with summer time around its changes, and
// years 0 to 9999.
func TestSecondTextAsAppendFormat(t *testing.T) {
	locs := []*time.Location{time.UTC, time.Local, time.FixedZone("a", -9000), time.FixedZone("b", 5*3600+30*60+7)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		locs = append(locs, ny)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	bases := []time.Time{
		time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC), // New York's spring change at 07:00 UTC
		time.Date(2026, 11, 1, 5, 59, 58, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 58, 0, time.UTC),
		time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	}
	var st secondText
	for range 20000 {
		base := bases[rng.IntN(len(bases))]
		at := base.Add(time.Duration(rng.IntN(3)) * time.Second)
		switch rng.IntN(4) {
		case 0: // whole second
		case 1:
			at = at.Add(time.Duration(rng.IntN(1e9)))
		case 2:
			at = at.Add(time.Duration(rng.IntN(1e6)) * time.Microsecond)
		default:
			at = at.Add(time.Duration(rng.IntN(10)) * 100 * time.Millisecond)
		}
		at = at.In(locs[rng.IntN(len(locs))])
		if y := at.Year(); y < 0 || y > 9999 {
			continue // appendEvent refuses it
		}
		want := at.AppendFormat([]byte("x"), time.RFC3339Nano)
		if got := st.appendTime([]byte("x"), at); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", at, got, want)
		}
		if !st.has(at) {
			t.Fatalf("secondText does not hold the second it just formatted (%v)", at)
		}
	}
	var none *secondText
	if at := bases[0].Add(123); none.has(at) || string(none.appendTime(nil, at)) != at.Format(time.RFC3339Nano) {
		t.Fatal("a nil secondText must hold nothing and format as time.RFC3339Nano")
	}
}

// T20: an event whose second the eventBuf's secondText holds is refused as
// before when the other checks refuse it, and encoded as encodeEvent
// encodes it otherwise.
func TestAppendEventWithSecondText(t *testing.T) {
	var st secondText
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		e := Event{Type: EventStatusChanged, ThreadID: "t1", MessageID: "m1", DeliveryID: fmt.Sprint("d", i), ProviderID: "SM1",
			Status: status.Delivered, At: at.Add(time.Duration(i) * 250 * time.Millisecond)}
		got, err := appendEvent(nil, e, &st)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := encodeEvent(e)
		if string(got) != string(want) {
			t.Fatalf("appendEvent with a secondText = %s, want %s", got, want)
		}
	}
	bad := Event{Type: EventStatusChanged, Status: status.Status(200), At: at}
	if _, err := appendEvent(nil, bad, &st); err == nil {
		t.Fatal("an invalid status was encoded")
	}
	if _, err := appendEvent(nil, Event{Type: EventStatusChanged, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, &st); err == nil {
		t.Fatal("a time after year 9999 was encoded")
	}
}
