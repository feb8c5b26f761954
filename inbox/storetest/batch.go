package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// testDeliveriesWriter: a store that writes deliveries in batches
// (store.DeliveriesWriter) applies each write of a batch as WriteDelivery
// would, each on its own: a stale or unknown one fails alone and changes
// nothing, the others are written with their events, in order, and their
// message's Counts follow (S5). A batch on an ended context writes
// nothing. A store without batch writes skips it.
func testDeliveriesWriter(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	bw, ok := e.store.(store.DeliveriesWriter)
	if !ok {
		t.Skip("the store writes deliveries one at a time")
	}
	if bw.Batched() != e.store {
		t.Fatal("DeliveriesWriter.Batched must return the store itself")
	}
	ctx := e.ctx
	th := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	m, ds, err := e.in.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID,
		Message:    inbox.Message{Kind: channel.SMS, Text: "Cours annulé"},
		Deliveries: []inbox.Delivery{{Address: helene.Phone}, {Address: marc.Phone}, {Address: "+33611111111"}}})
	e.must(err)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries recorded, want 3", len(ds))
	}
	head, err := e.store.LastEventSeq(ctx)
	e.must(err)
	at := t0.Add(time.Hour)
	event := func(i int) store.FeedEvent {
		return store.FeedEvent{At: at, Data: fmt.Appendf(nil, `{"type":"status_changed","delivery":%q}`, ds[i].ID)}
	}

	marked := ds[0]
	marked.Sending = at
	stale := ds[1]
	stale.Version--
	stale.Reason = "stale"
	accepted := ds[2]
	accepted.ProviderID = "pb-2"
	accepted.Attempts = 1
	accepted.Status.History = append(accepted.Status.History[:len(accepted.Status.History):len(accepted.Status.History)],
		status.Change{Status: status.Validated, At: at, Raw: "accepted"})
	accepted.Status.Current = status.Validated
	unknown := ds[0]
	unknown.ID = "no-such-delivery"
	errs := bw.WriteDeliveries(ctx, []store.DeliveryWrite{
		{Delivery: marked, Events: []store.FeedEvent{event(0)}},
		{Delivery: stale, Events: []store.FeedEvent{event(1)}},
		{Delivery: accepted, Events: []store.FeedEvent{event(2)}},
		{Delivery: unknown},
	})
	if len(errs) != 4 || errs[0] != nil || !errors.Is(errs[1], store.ErrConflict) || errs[2] != nil || !errors.Is(errs[3], store.ErrNotFound) {
		t.Fatalf("WriteDeliveries errors = %v; want nil, ErrConflict, nil, ErrNotFound", errs)
	}
	got, err := e.store.Delivery(ctx, marked.ID)
	e.must(err)
	if !got.Sending.Equal(at) || got.Version != marked.Version+1 {
		t.Fatalf("the first write: Sending %v, version %d; want %v, %d", got.Sending, got.Version, at, marked.Version+1)
	}
	got, err = e.store.Delivery(ctx, stale.ID)
	e.must(err)
	if got.Reason != "" || got.Version != ds[1].Version {
		t.Fatalf("a stale write of a batch changed its delivery: %+v", got)
	}
	got, err = e.store.DeliveryByProviderID(ctx, "pb-2")
	e.must(err)
	if got.ID != accepted.ID || got.Status.Current != status.Validated || len(got.Status.History) != len(ds[2].Status.History)+1 || got.Attempts != 1 {
		t.Fatalf("the accepted write: %+v", got)
	}
	msg, err := e.store.Message(ctx, m.ID)
	e.must(err)
	if first := ds[0].Status.Current; msg.Counts[first] != 2 || msg.Counts[status.Validated] != 1 {
		t.Fatalf("S5: counts after a batch %v, want 2 %s and 1 validated", msg.Counts, first)
	}
	evs, err := e.store.ReadEvents(ctx, head, 10)
	e.must(err)
	if len(evs) != 2 || string(evs[0].Data) != string(event(0).Data) || string(evs[1].Data) != string(event(2).Data) || evs[0].Seq >= evs[1].Seq {
		t.Fatalf("events of a batch: %d read, want those of its first and third writes, in order", len(evs))
	}

	// a batch whose every write applies returns nil
	marked.Version++
	marked.Sending = time.Time{}
	if errs := bw.WriteDeliveries(ctx, []store.DeliveryWrite{{Delivery: marked}}); errs != nil {
		t.Fatalf("WriteDeliveries = %v, want nil", errs)
	}
	// an ended context writes nothing
	done, cancel := context.WithCancel(ctx)
	cancel()
	marked.Version++
	marked.Reason = "too late"
	errs = bw.WriteDeliveries(done, []store.DeliveryWrite{{Delivery: marked}})
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("WriteDeliveries on an ended context = %v, want context.Canceled", errs)
	}
	if got, _ := e.store.Delivery(ctx, marked.ID); got.Reason != "" {
		t.Fatal("a batch on an ended context was written")
	}
}
