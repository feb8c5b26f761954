package inbox_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/status"
)

// T20, S2 (issues 16, 18): a status merged where the store keeps the
// delivery (memstore's store.StatusMerger) writes its status-changed event
// to the store's feed in the same step, so that a subscriber of another
// Inbox on the same store sees it, with the same Seq; a duplicate report
// changes nothing and writes no event.
func TestMergedStatusReachesEveryInstance(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	a, err := inbox.New(s, inbox.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := inbox.New(s, inbox.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	th, err := a.StartWithAddress(ctx, channel.SMS, "+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	_, ds, err := a.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "hi"},
		Deliveries: []inbox.Delivery{{Address: "+33612345678", ProviderID: "SM-merge", Status: status.Record{Current: status.Pending}}}})
	if err != nil {
		t.Fatal(err)
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub := b.SubscribeWith(subCtx, inbox.SubscribeOptions{After: a.LastEventSeq()})
	for range 2 { // the second is a duplicate
		if err := a.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-merge", Status: status.Delivered}); err != nil {
			t.Fatal(err)
		}
	}
	e := next(t, sub)
	if e.Type != inbox.EventStatusChanged || e.DeliveryID != ds[0].ID || e.Status != status.Delivered || e.Seq != a.LastEventSeq() {
		t.Fatalf("instance B got %+v, want status-changed of %s to delivered, Seq %d", e, ds[0].ID, a.LastEventSeq())
	}
	if err := a.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-merge", Status: status.Read}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, sub); e.Type != inbox.EventStatusChanged || e.Status != status.Read {
		t.Fatalf("after a duplicate, instance B got %+v, want the next change (read)", e)
	}
}
