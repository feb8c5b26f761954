package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// testS3 drives S3 through the inbox and the store: the history a delivery
// keeps is the set of distinct provider events, ordered by the provider's
// event time, whatever the order and number of webhook arrivals; an event
// without a provider time is kept at its first arrival.
func testS3(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	events := []channel.StatusUpdate{
		{Status: status.Sent, Raw: "sent", At: t0.Add(10 * time.Second)},
		{Status: status.Delivered, Raw: "delivered", At: t0.Add(20 * time.Second)},
		{Status: status.Read, Raw: "read", At: t0.Add(30 * time.Second)},
		{Status: status.Failed, Raw: "failed", ErrorCode: "131047", ErrorMessage: "re-engagement message", At: t0.Add(15 * time.Second)},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var want []status.Change
	for trial := range 12 {
		pid := fmt.Sprintf("wamid.s3-%d", trial)
		_, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.WhatsApp, Text: "hi"},
			Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone, ProviderID: pid}}})
		e.must(err)
		var arrivals []channel.StatusUpdate
		for _, u := range events {
			for range 1 + rng.IntN(3) {
				u.ProviderID = pid
				arrivals = append(arrivals, u)
			}
		}
		rng.Shuffle(len(arrivals), func(i, j int) { arrivals[i], arrivals[j] = arrivals[j], arrivals[i] })
		for _, u := range arrivals {
			e.must(e.in.ApplyStatus(e.ctx, u))
		}
		d, err := e.store.Delivery(e.ctx, ds[0].ID)
		e.must(err)
		if d.Status.Current != status.Read {
			t.Fatalf("S2: status %s, want read", d.Status.Current)
		}
		if want == nil {
			want = d.Status.History
			var got []string
			for _, c := range want {
				got = append(got, c.Raw)
			}
			if !slices.Equal(got, []string{"sent", "failed", "delivered", "read"}) {
				t.Fatalf("S3: history %v, want every distinct event in event-time order", got)
			}
			if f := want[1]; f.ErrorCode != "131047" || f.ErrorMessage != "re-engagement message" || !f.At.Equal(t0.Add(15*time.Second)) {
				t.Fatalf("S3: the failed event is kept with its code, text and time: %+v", f)
			}
			continue
		}
		if !slices.EqualFunc(d.Status.History, want, func(a, b status.Change) bool {
			return a.Status == b.Status && a.At.Equal(b.At) && a.Raw == b.Raw && a.ErrorCode == b.ErrorCode && a.ErrorMessage == b.ErrorMessage && a.Arrived == b.Arrived
		}) {
			t.Fatalf("S3: arrivals %v gave %+v, want %+v", arrivals, d.Status.History, want)
		}
	}

	// A provider that gives no event time: the arrival time is kept, and the
	// same report arriving again later is one event.
	_, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "hi"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone, ProviderID: "SM-s3"}}})
	e.must(err)
	first := e.clock.Now().Add(time.Minute)
	for range 3 {
		e.clock.Advance(time.Minute)
		e.must(e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "SM-s3", Status: status.Delivered, Raw: "delivered"}))
	}
	d, err := e.store.Delivery(e.ctx, ds[0].ID)
	e.must(err)
	if len(d.Status.History) != 1 || !d.Status.History[0].At.Equal(first) || !d.Status.History[0].Arrived {
		t.Fatalf("S3: a report without a provider time arriving three times: %+v, want one event at its first arrival", d.Status.History)
	}
}
